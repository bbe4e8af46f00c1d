import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, parseLabelledTsv } from "../src/nlu/evaluate.js";
import type { IntentMatcher } from "../src/nlu/matcher.js";
import type { Locale } from "../src/shop/types.js";
import { cleanupShops, freshDemoShop, matcherFor } from "./helpers/demo-shop.js";

/**
 * Accuracy on labelled utterances written apart from the templates (tests/nlu/<locale>.tsv),
 * phrased the way people talk, with out-of-domain requests labelled OOD.
 */
const sets: { locale: Locale; minRows: number }[] = [
  { locale: "en", minRows: 300 },
  { locale: "de", minRows: 100 },
];
const matchers = new Map<Locale, IntentMatcher>();

beforeAll(async () => {
  const shop = await freshDemoShop();
  for (const { locale } of sets) matchers.set(locale, matcherFor(locale, shop));
  await shop.close();
});
afterAll(cleanupShops);

describe.each(sets)("NLU accuracy ($locale)", ({ locale, minRows }) => {
  it("understands at least 95% of intents, with slot F1 of at least 90%", () => {
    const file = join(import.meta.dirname, "nlu", `${locale}.tsv`);
    const rows = parseLabelledTsv(readFileSync(file, "utf8"), file);
    expect(rows.length).toBeGreaterThanOrEqual(minRows);
    const r = evaluate(matchers.get(locale)!, rows);
    console.log(`[nlu ${locale}] ${r.total} utterances: intent accuracy ${(r.intentAccuracy * 100).toFixed(1)}%, slot F1 ${(r.slotF1 * 100).toFixed(1)}% (P ${(r.slotPrecision * 100).toFixed(1)}%, R ${(r.slotRecall * 100).toFixed(1)}%)`);
    for (const c of r.confusions.slice(0, 8)) console.log(`  ${c.count}x ${c.expected} -> ${c.got}: "${c.examples[0]}"`);
    expect(r.intentAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(r.slotF1).toBeGreaterThanOrEqual(0.9);
  });
});
