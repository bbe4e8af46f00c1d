import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlite } from "../../src/shop/db.js";
import { SqlShop } from "../../src/shop/sql-shop.js";
import { loadGrammar } from "../../src/nlu/load-intents.js";
import { IntentMatcher } from "../../src/nlu/matcher.js";
import { Session, type SessionOptions } from "../../src/dialogue/session.js";
import type { Locale, Shop } from "../../src/shop/types.js";

export const INTENTS_DIR = join(import.meta.dirname, "../../intents");

let template: string | null = null;
const dirs: string[] = [];

/** A fresh demo shop for each test: seeded once into a template file, then copied (seeding hashes PINs with scrypt). */
export async function freshDemoShop(opts: { now?: () => number } = {}): Promise<SqlShop> {
  if (!template) {
    const dir = mkdtempSync(join(tmpdir(), "talkcart-template-"));
    template = join(dir, "shop.sqlite");
    const db = await openSqlite(template);
    const shop = await SqlShop.open(db);
    await shop.close(); // closing the last connection checkpoints the WAL into the file we copy
  }
  const dir = mkdtempSync(join(tmpdir(), "talkcart-test-"));
  dirs.push(dir);
  copyFileSync(template, join(dir, "shop.sqlite"));
  return SqlShop.open(await openSqlite(join(dir, "shop.sqlite")), opts);
}

export function cleanupShops() {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

const matchers = new Map<string, IntentMatcher>();

export function matcherFor(locale: Locale, shop: SqlShop): IntentMatcher {
  // The catalog scorer only depends on the (unchanging) catalog, so one matcher per locale serves every shop.
  if (!matchers.has(locale)) matchers.set(locale, new IntentMatcher(loadGrammar(INTENTS_DIR, locale), shop.index.scorer(locale)));
  return matchers.get(locale)!;
}

export function sessionFor(shop: SqlShop, locale: Locale, extra: Partial<SessionOptions> & { shopOverride?: Shop } = {}): Session {
  return new Session({ matcher: matcherFor(locale, shop), shop: extra.shopOverride ?? shop, shopperId: "demo", locale, ...extra });
}
