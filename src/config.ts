import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Locale } from "./shop/types.js";

export const LOCALES: Locale[] = ["en", "de"];

export interface Config {
  dataDir: string;
  databaseUrl?: string;
  intentsDir: string;
  locale: Locale;
  shopperId: string;
  trace: boolean;
}

/** A wrong setting: said in one line, with what to do about it. */
export class ConfigError extends Error {}

export function bundledIntents(): string {
  // From src/ (tests) this is ../intents; from dist/src/ (built) it is ../../intents.
  const here = fileURLToPath(import.meta.url);
  return here.includes(`${"/dist/"}`) ? resolve(here, "../../../intents") : resolve(here, "../../intents");
}

export function loadConfig(opts: { data?: string; intents?: string; locale?: string; shopper?: string; trace?: boolean } = {}, env = process.env): Config {
  const locale = (opts.locale ?? env.TALKCART_LOCALE ?? "en") as Locale;
  if (!LOCALES.includes(locale)) throw new ConfigError(`unknown locale '${locale}': use one of ${LOCALES.join(", ")} (--locale or TALKCART_LOCALE)`);
  return {
    dataDir: resolve(opts.data ?? env.TALKCART_DATA ?? "data"),
    databaseUrl: env.DATABASE_URL || undefined,
    intentsDir: resolve(opts.intents ?? env.TALKCART_INTENTS ?? bundledIntents()),
    locale,
    shopperId: opts.shopper ?? env.TALKCART_SHOPPER ?? "demo",
    trace: !!opts.trace,
  };
}
