import { mkdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import pino from "pino";
import { IntentFileError, loadGrammar } from "./nlu/load-intents.js";
import { responseProblems } from "./voice/check-responses.js";
import { IntentMatcher } from "./nlu/matcher.js";
import { openDatabase } from "./shop/db.js";
import { SqlShop } from "./shop/sql-shop.js";
import { Session, type TurnTrace } from "./dialogue/session.js";
import { bundledIntents, ConfigError, type Config } from "./config.js";
import type { Locale } from "./shop/types.js";

/** The assembled pipeline: intent files, the shop and its store, and the turn log. */
export interface Assistant {
  config: Config;
  shop: SqlShop;
  matcher(locale?: Locale): IntentMatcher;
  session(opts?: { locale?: Locale; onTurn?: (t: TurnTrace) => void }): Session;
  close(): Promise<void>;
}

export async function openShop(config: Config): Promise<SqlShop> {
  try {
    return await SqlShop.open(await openDatabaseFor(config));
  } catch (e) {
    throw explainOpenError(e, config);
  }
}

export function explainOpenError(e: unknown, config: Config): unknown {
  if (e instanceof ConfigError) return e;
  const err = e as NodeJS.ErrnoException;
  if (config.databaseUrl && /ECONNREFUSED|ENOTFOUND|password|does not exist|ETIMEDOUT/.test(`${err.code} ${err.message}`)) {
    return new ConfigError(`cannot use the database in DATABASE_URL (${err.code ?? err.message}): start PostgreSQL or unset DATABASE_URL to use the embedded SQLite store`);
  }
  if (["SQLITE_CANTOPEN", "EACCES", "EEXIST", "ENOTDIR", "EROFS", "EPERM"].includes(err.code ?? "")) {
    return new ConfigError(`cannot open the shop data in ${config.dataDir} (${err.code}): choose a writable folder with --data or TALKCART_DATA`);
  }
  return e;
}

/** The configured intent files; a developer's own domain may leave out responses.yaml and borrow talkcart's. */
export function loadIntents(config: Config, locale: Locale) {
  const grammar = loadGrammar(config.intentsDir, locale);
  const bundled = resolve(config.intentsDir) === resolve(bundledIntents());
  const reference = bundled && locale === "en" ? grammar.responses : loadGrammar(bundledIntents(), "en").responses;
  if (!bundled) grammar.responses = { ...loadGrammar(bundledIntents(), locale).responses, ...grammar.responses };
  const problems = responseProblems(grammar.responses, reference);
  if (problems.length) throw new IntentFileError(relative(process.cwd(), join(grammar.dir, "responses.yaml")), 0, problems.join("; "));
  return grammar;
}

/** Opens the shop, turning the expected failures (database unreachable, data folder unusable) into one clear line. */
export async function openDatabaseFor(config: Config) {
  try {
    return await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  } catch (e) {
    throw explainOpenError(e, config);
  }
}

export async function openAssistant(config: Config): Promise<Assistant> {
  const shop = await openShop(config);
  const matchers = new Map<Locale, IntentMatcher>();
  const matcher = (locale: Locale = config.locale) => {
    if (!matchers.has(locale)) matchers.set(locale, new IntentMatcher(loadIntents(config, locale), shop.index.scorer(locale)));
    return matchers.get(locale)!;
  };
  matcher(); // load (and validate) the intent files up front, so a broken file is reported before the first turn

  mkdirSync(config.dataDir, { recursive: true });
  // One JSON line per turn in data/turns.log; --trace mirrors it to stderr.
  const streams: pino.StreamEntry[] = [{ stream: pino.destination({ dest: join(config.dataDir, "turns.log"), sync: true, mkdir: true }) }];
  if (config.trace) streams.push({ stream: process.stderr });
  const log = pino({ base: null, messageKey: "event" }, pino.multistream(streams));

  return {
    config,
    shop,
    matcher,
    session: (opts = {}) => {
      const locale = opts.locale ?? config.locale;
      return new Session({
        matcher: matcher(locale), shop, shopperId: config.shopperId, locale,
        onTurn: (t) => {
          log.info({ turn: t }, "turn");
          opts.onTurn?.(t);
        },
      });
    },
    close: () => shop.close(),
  };
}
