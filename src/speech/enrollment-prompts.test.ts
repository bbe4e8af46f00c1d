import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadGrammar } from "../nlu/load-intents.js";
import { catalogPhrasesOf } from "./catalog-phrases.js";
import { domainFor } from "./engines.js";
import { exampleRequests } from "../nlu/sentence-tests.js";
import { enrollmentPrompts } from "./enrollment-prompts.js";
import { acceptsWords, buildJsgf, dictionaryFrom } from "./jsgf.js";

const catalog = JSON.parse(readFileSync("src/shop/seed/catalog.json", "utf8"));
const grammar = loadGrammar("intents", "en");
// Every word pronounceable, so no sentence is dropped for want of a dictionary; each spelled its own
// way ("phones" = letters), so no two phrases sound alike and none is dropped for that either.
const spelled = (w: string) => w.split("").join(" ");
const everyWord = { has: () => true, phones: spelled, variants: (w: string) => [spelled(w)] };
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

  it("ask first for the requests people wrote, each intent in turn, as they are said; the grammar's own fill up", () => {
    const examples = [
      { intent: "AddToCart", text: "add 2 packs of coffee to my cart" },
      { intent: "AddToCart", text: "put three bananas in the basket" },
      { intent: "ReadCart", text: "what's in my cart" },
      { intent: "ReadCart", text: "flurble the wibble please" }, // not a sentence of the grammar: cannot be heard
      { intent: "Yes", text: "yes" }, // too short to carry much
    ];
    const five = enrollmentPrompts(jsgf, 5, { examples });
    expect(five).toHaveLength(5);
    expect(five.slice(0, 3).sort()).toEqual(["add two packs of coffee to my cart", "put three bananas in the basket", "what's in my cart"]);
    expect(five.slice(0, 2).map(intentOf).sort()).toEqual(["i_AddToCart", "i_ReadCart"]); // one of each before the second of one
    expect(five).not.toContain("flurble the wibble please");
    for (const p of five.slice(3)) expect(intentOf(p), p).toBeDefined();
    expect(enrollmentPrompts(jsgf, 5, { examples, exclude: (t) => t.startsWith("put") })).not.toContain("put three bananas in the basket");
    // The intent files' own examples are enough for the default 30, from most intents.
    const written = enrollmentPrompts(jsgf, 30, { examples: exampleRequests("intents", "en") });
    const said = new Set(exampleRequests("intents", "en").map((e) => e.text.replace(/\b2\b/g, "two")));
    expect(written.filter((p) => !said.has(p)).length).toBeLessThanOrEqual(3);
    expect(new Set(written.map(intentOf)).size).toBeGreaterThanOrEqual(15);
  });

  it("a grammar of short answers only gives as many as it has", () => {
    const tiny = buildJsgf(domainFor({ ...grammar, intents: ["Yes"], sentences: grammar.sentences.filter((s) => s.intent === "Yes") }), { dictionary: dictionaryFrom({ yes: "Y EH S" }), pronunciations: "none" });
    const answers = enrollmentPrompts(tiny, 30);
    expect(answers.length).toBeGreaterThan(0); // "yes that's right", "sounds good to me", ...
    expect(answers.length).toBeLessThan(30);
    expect(new Set(answers).size).toBe(answers.length);
  });
});
