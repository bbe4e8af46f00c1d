import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadGrammar } from "../nlu/load-intents.js";
import { catalogPhrasesOf } from "./catalog-phrases.js";
import { domainFor } from "./engines.js";
import { enrollmentPrompts } from "./enrollment-prompts.js";
import { acceptsWords, buildJsgf, dictionaryFrom } from "./jsgf.js";

const catalog = JSON.parse(readFileSync("src/shop/seed/catalog.json", "utf8"));
const grammar = loadGrammar("intents", "en");
// Every word pronounceable, so no sentence is dropped for want of a dictionary.
const everyWord = { has: () => true, phones: () => "AH", variants: () => ["AH"] };
const jsgf = buildJsgf(domainFor(grammar, catalogPhrasesOf(catalog, "en")), { dictionary: everyWord, pronunciations: "none" });

describe("enrollment prompts", () => {
  const prompts = enrollmentPrompts(jsgf, 30);

  it("are distinct requests of the grammar, 3 to 12 words each", () => {
    expect(prompts).toHaveLength(30);
    expect(new Set(prompts).size).toBe(30);
    for (const p of prompts) {
      expect(jsgf.accepts(p), p).toBe(true);
      expect(p.split(" ").length).toBeGreaterThanOrEqual(3);
      expect(p.split(" ").length).toBeLessThanOrEqual(12);
    }
  });

  // Sentences of an intent rule itself: <command> would add the lead-in and trailing fillers ("erm", "hello talkcart").
  const intentOf = (p: string) => jsgf.structure.intents.find((i) => acceptsWords(jsgf.rules, i, p.split(" ")));

  it("are requests without the filler words the grammar tolerates around them, from many intents", () => {
    expect(prompts.filter((p) => !intentOf(p))).toEqual([]);
    expect(new Set(prompts.map(intentOf)).size).toBeGreaterThanOrEqual(8);
  });

  it("are the same for the same seed, others for another, and keep excluded sentences out", () => {
    expect(enrollmentPrompts(jsgf, 30)).toEqual(prompts);
    expect(enrollmentPrompts(jsgf, 30, { seed: 2 })).not.toEqual(prompts);
    const without = enrollmentPrompts(jsgf, 30, { exclude: (t) => prompts.slice(0, 10).includes(t) });
    expect(without.filter((p) => prompts.slice(0, 10).includes(p))).toEqual([]);
    expect(without).toHaveLength(30);
  });

  it("a grammar of short answers only gives as many as it has", () => {
    const tiny = buildJsgf(domainFor({ ...grammar, intents: ["Yes"], sentences: grammar.sentences.filter((s) => s.intent === "Yes") }), { dictionary: dictionaryFrom({ yes: "Y EH S" }), pronunciations: "none" });
    const answers = enrollmentPrompts(tiny, 30);
    expect(answers.length).toBeGreaterThan(0); // "yes that's right", "sounds good to me", ...
    expect(answers.length).toBeLessThan(30);
    expect(new Set(answers).size).toBe(answers.length);
  });
});
