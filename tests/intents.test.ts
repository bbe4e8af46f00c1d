import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGrammar } from "../src/nlu/load-intents.js";
import { IntentMatcher } from "../src/nlu/matcher.js";
import { readSentenceTests } from "../src/nlu/sentence-tests.js";
import type { Locale } from "../src/shop/types.js";
import { INTENTS_DIR, cleanupShops, freshDemoShop, matcherFor } from "./helpers/demo-shop.js";

const LOCALES: Locale[] = ["en", "de"];
const matchers = new Map<Locale, IntentMatcher>();
let coffeeBar: IntentMatcher;
const COFFEE_BAR = join(import.meta.dirname, "../examples/coffee-bar");

beforeAll(async () => {
  const shop = await freshDemoShop();
  for (const l of LOCALES) matchers.set(l, matcherFor(l, shop));
  coffeeBar = new IntentMatcher(loadGrammar(COFFEE_BAR, "en"));
  await shop.close();
});
afterAll(cleanupShops);

describe.each(LOCALES)("intent files (%s)", (locale) => {
  const tests = readSentenceTests(INTENTS_DIR, locale);
  const files = tests.map((t) => t.file);

  it("has templates and tests for every intent, the same intents as English", () => {
    const grammar = loadGrammar(INTENTS_DIR, locale);
    const english = loadGrammar(INTENTS_DIR, "en");
    expect([...grammar.intents].sort()).toEqual([...english.intents].sort());
    for (const intent of grammar.intents) {
      expect(files, `intents/${locale}/tests/${intent}.yaml`).toContain(`${intent}.yaml`);
    }
  });

  sentenceTests(tests, () => matchers.get(locale)!);
});

describe("a developer's own domain (examples/coffee-bar)", () => {
  sentenceTests(readSentenceTests(COFFEE_BAR, "en"), () => coffeeBar);
});

function sentenceTests(files: ReturnType<typeof readSentenceTests>, matcher: () => IntentMatcher) {
  for (const { file, blocks } of files) {
    describe(file, () => {
      for (const block of blocks) {
        for (const sentence of block.sentences) {
          it(`"${sentence}" -> ${block.intent?.name ?? "no intent"}`, () => {
            const best = matcher().parse(sentence).best;
            if (block.intent === null) {
              expect(best, `matched ${best?.intent} (${best?.sentence.source.file}:${best?.sentence.source.line})`).toBeNull();
              return;
            }
            expect(best?.intent).toBe(block.intent.name);
            const expected = block.intent.slots;
            if (expected && Object.keys(expected).length === 0) {
              expect(Object.keys(best!.slots).filter((k) => k !== "unit")).toEqual([]);
            }
            for (const [slot, value] of Object.entries(expected ?? {})) {
              expect(String(best!.slots[slot]), `slot ${slot}`).toBe(String(value));
            }
          });
        }
      }
    });
  }
}
