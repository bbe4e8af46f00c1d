import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadGrammar } from "../nlu/load-intents.js";
import {
  acceptsWords, buildJsgf, composePronunciation, DEFAULT_DICT, dictionaryFrom, dictionaryText,
  espeakPronunciations, inlinedSize, loadDictionary, missingWords,
} from "./jsgf.js";
import { catalogPhrasesOf } from "./catalog-phrases.js";
import { automatonSize, compileAutomaton, compileFsg } from "./jsgf-fsg.js";
import { sampleSentences, trigramArpa } from "./jsgf-lm.js";
import type { RecognitionDomain } from "./types.js";
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";

const grammar = loadGrammar("intents", "en");
const catalog = JSON.parse(readFileSync("src/shop/seed/catalog.json", "utf8"));
const domain: RecognitionDomain = { locale: "en", grammar, catalogPhrases: catalogPhrasesOf(catalog, "en") };
const hasDict = existsSync(DEFAULT_DICT);
const hasEspeak = (() => {
  try {
    execFileSync("espeak-ng", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** A toy grammar: intents with rules, a values list, numbers and the catalog slot. */
function toy(words: Record<string, string>, catalogPhrases: string[] = ["coffee", "green tea", "lavazza crema"]) {
  const w = (word: string) => ({ kind: "word" as const, word });
  const seq = (...items: never[]) => ({ kind: "seq" as const, items });
  const toyGrammar = {
    ...grammar,
    intents: ["Add", "Yes"],
    sentences: [
      { intent: "Add", text: "", fixedSlots: {}, source: { file: "", line: 1 }, node: seq(w("add") as never, { kind: "slot", list: "quantity", slot: "quantity" } as never, { kind: "rule", name: "unit" } as never, { kind: "slot", list: "product", slot: "product" } as never) },
      { intent: "Yes", text: "", fixedSlots: {}, source: { file: "", line: 1 }, node: { kind: "alt", options: [w("yes"), w("yeah"), w("yessir")] } as never },
    ],
    rules: { unit: { kind: "alt", options: [w("packs"), w("pkgs"), seq()] } as never },
    lists: { quantity: { kind: "range", from: 1, to: 3 }, product: { kind: "catalog" } } as never,
    numbers: [{ node: w("one"), value: 1 }, { node: { kind: "alt", options: [w("two"), w("twoo")] } as never, value: 2 }, { node: w("three"), value: 3 }],
    skipWords: [["please"], ["um"]],
  };
  return { domain: { locale: "en", grammar: toyGrammar, catalogPhrases } as RecognitionDomain, dictionary: dictionaryFrom(words) };
}

describe("JSGF from the intent grammar", () => {
  it("is factored into rules: one public rule, one rule per intent, expansion rule and list", () => {
    const g = buildJsgf(domain, { pronunciations: "compose" });
    const publics = g.text.split("\n").filter((l) => l.startsWith("public "));
    expect(publics).toHaveLength(1);
    expect(publics[0]).toMatch(/^public <command> = \[<skip>\] \(<i_AddToCart> \| .*<i_Yes>\) \[<skip_end>\];$/);
    for (const intent of grammar.intents) expect(g.text).toContain(`<i_${intent}> = `);
    for (const rule of ["r_pre", "r_lead", "r_to_cart", "r_amount", "l_unit", "l_product", "n_1_99", "d_4_8", "digit"]) {
      expect(g.text).toContain(`\n<${rule}> = `);
    }
    // Not every expansion listed: the text is a small fraction of what sphinxbase would inline.
    const words = g.text.split(/\s+/).filter((t) => /^[\p{L}\p{N}']+$/u.test(t)).length;
    expect(inlinedSize(g.rules)).toBeGreaterThan(20 * words);
    expect(g.text.length).toBeLessThan(80_000);
  });

  it("accepts the grammar's sentences and nothing else", () => {
    const g = buildJsgf(domain, { pronunciations: "compose" });
    // Order numbers beyond the number words are said digit by digit, as the assistant reads them out.
    for (const s of ["add two packs of coffee to my cart", "what's in my cart", "do you have lego", "my pin is one two three four", "yes please", "hey talkcart remove the bananas from my cart", "where is order one oh four two"]) {
      expect(g.accepts(s), s).toBe(true);
    }
    for (const s of ["add two packs of coffee to", "coffee", "please", "what's in in my cart", ""]) expect(g.accepts(s), s).toBe(false);
  });

  it("keeps dictionary spellings with apostrophes as JSGF tokens (cmudict has what's)", () => {
    const g = buildJsgf(domain, { pronunciations: "compose" });
    expect(g.words).toContain("what's");
    expect(g.words).toContain("i'd");
    // A JSGF token never holds a JSGF operator.
    for (const w of g.words) expect(w).toMatch(/^[\p{L}\p{N}']+$/u);
  });

  it("reports words missing from the dictionary and leaves out the alternatives that need them", () => {
    const { domain: d, dictionary } = toy({ add: "AE D", packs: "P AE K S", coffee: "K AO F IY", green: "G R IY N", tea: "T IY", yes: "Y EH S", yeah: "Y AE", one: "W AH N", two: "T UW", three: "TH R IY", please: "P L IY Z" });
    const g = buildJsgf(d, { dictionary, pronunciations: "none" });
    expect(g.missing).toEqual(["crema", "lavazza", "pkgs", "twoo", "um", "yessir"]);
    expect(missingWords(d, { dictionary, pronunciations: "none" })).toEqual(g.missing);
    for (const w of g.missing) expect(g.text).not.toMatch(new RegExp(`\\b${w}\\b`));
    expect(g.accepts("add two packs green tea")).toBe(true);
    expect(g.accepts("add one coffee please")).toBe(true);
    expect(g.accepts("add two lavazza crema")).toBe(false);
    expect(g.accepts("yessir")).toBe(false);
    expect(g.accepts("yeah")).toBe(true);
  });

  it("drops a sentence, intent or list entirely when none of it can be said", () => {
    const { domain: d, dictionary } = toy({ yes: "Y EH S" });
    const g = buildJsgf(d, { dictionary, pronunciations: "none" });
    expect(g.structure.intents).toEqual(["i_Yes"]);
    expect(g.dropped).toEqual([{ intent: "Add", text: "" }]);
    expect(() => buildJsgf(toy({}).domain, { dictionary: dictionaryFrom({}), pronunciations: "none" })).toThrow(/no sentence/);
  });

  it("keeps one spelling of alternatives that sound the same", () => {
    const g = buildJsgf(domain, { pronunciations: "compose" });
    expect(g.text).toContain("twenty one");
    expect(g.words).not.toContain("twentyone"); // composed = same phones as "twenty one"
    expect(g.accepts("add twenty one bananas")).toBe(true);
  });

  it.skipIf(!hasEspeak)("keeps one of the catalog phrases that sound the same, the one with the dictionary's words", () => {
    const words = { add: "AE D", one: "W AH N", two: "T UW", three: "TH R IY", yes: "Y EH S", coffee: "K AO F IY", grams: "G R AE M Z", kilo: "K IH L OW", kilogram: "K IH L AH G R AE M" };
    // espeak-ng reads "grammes" as "grams" sounds: G R AE M Z
    const { domain: d, dictionary } = toy(words, ["coffee grammes", "coffee grams", "coffee kilo", "coffee kilogram"]);
    const g = buildJsgf(d, { dictionary });
    expect(g.words).not.toContain("grammes");
    expect(["add one coffee grams", "add one coffee kilo", "add one coffee kilogram"].every((t) => g.accepts(t))).toBe(true);
  });

  it.skipIf(!hasEspeak)("keeps one even where espeak-ng reads the word written together differently", () => {
    const g = buildJsgf(domain);
    expect(g.words).not.toContain("thirtyfive");
    expect(g.words).not.toContain("twentyone");
    expect(g.accepts("what would you recommend for a thirty five year old")).toBe(true);
  });
});

describe.skipIf(!hasDict)("pronunciations for words the dictionary lacks", () => {
  const dict = hasDict ? loadDictionary() : dictionaryFrom({});

  it("composes dictionary words written together", () => {
    expect(composePronunciation("talkcart", dict)).toBe(`${dict.phones("talk")} ${dict.phones("cart")}`);
    expect(composePronunciation("café", dict)).toBe(dict.phones("cafe"));
    expect(composePronunciation("zzqx", dict)).toBeUndefined();
  });

  it.skipIf(!hasEspeak)("spells the rest with espeak-ng's letter-to-sound rules, in ARPAbet", () => {
    const phones = espeakPronunciations(["lavazza", "tchibo", "ravensburger"]);
    expect([...phones.keys()]).toEqual(["lavazza", "tchibo", "ravensburger"]);
    const arpabet = new Set("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH".split(" "));
    for (const p of phones.values()) for (const ph of p.split(" ")) expect(arpabet.has(ph), p).toBe(true);
    expect(phones.get("lavazza")).toMatch(/^L AE V AE Z AH$|^L AH V AA T S AH$|^L/);
  });

  it.skipIf(!hasEspeak)("leaves few catalog and intent words out of the real grammar", () => {
    const g = buildJsgf(domain);
    expect(g.missing.length).toBeLessThan(10);
    expect(g.added.get("talkcart")).toBe("T AO K K AA R T");
    expect(g.words).toContain("lavazza");
    // The decoder's small dictionary holds every grammar word, alternates included.
    const text = dictionaryText(g.words, dict, g.added);
    expect(text).toMatch(/^lavazza /m);
    expect(text).toMatch(/^the\(2\) /m);
    expect(text.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(g.words.length);
  });
});

describe("the grammar as an automaton and a language model", () => {
  const g = buildJsgf(domain, { pronunciations: "compose" });

  it("compiles each intent to a minimal automaton with the same language", () => {
    const a = compileAutomaton(g.rules, "i_ReadCart");
    const walk = (words: string[]) => {
      let s = a.start;
      for (const w of words) {
        const n = a.next[s].get(w);
        if (n === undefined) return false;
        s = n;
      }
      return a.final[s];
    };
    for (const s of sampleSentences(g.rules, "i_ReadCart", 300)) expect(walk(s), s.join(" ")).toBe(true);
    expect(walk(["what's", "in", "in", "my", "cart"])).toBe(false);
    expect(automatonSize(a).states).toBeLessThan(500);
  });

  it("writes a sphinxbase FSG far smaller than the inlined JSGF", () => {
    const fsg = compileFsg(g);
    expect(fsg.text.startsWith("FSG_BEGIN talkcart\nNUM_STATES ")).toBe(true);
    expect(fsg.text.trim().endsWith("FSG_END")).toBe(true);
    expect(fsg.arcs).toBeLessThan(inlinedSize(g.rules) / 3);
    const lines = fsg.text.split("\n").filter((l) => l.startsWith("TRANSITION"));
    expect(lines.length).toBeGreaterThan(fsg.arcs);
    for (const l of lines.slice(0, 2000)) expect(l).toMatch(/^TRANSITION \d+ \d+ [\d.e-]+( [\p{L}\p{N}']+)?$/u);
  });

  it("samples only grammatical sentences and turns them into an ARPA trigram model", () => {
    const sentences = sampleSentences(g.rules, "command", 2000, { seed: 7 });
    for (const s of sentences.slice(0, 300)) expect(acceptsWords(g.rules, "command", s), s.join(" ")).toBe(true);
    expect(sampleSentences(g.rules, "command", 50, { seed: 7 })).toEqual(sentences.slice(0, 50));
    const arpa = trigramArpa(sentences, g.words);
    const counts = [...arpa.matchAll(/^ngram (\d)=(\d+)$/gm)].map((m) => Number(m[2]));
    expect(counts[0]).toBe(g.words.length + 2); // + <s> and </s>
    const unigrams = arpa.split("\\1-grams:\n")[1].split("\n\n")[0].split("\n");
    expect(unigrams).toHaveLength(counts[0]);
    const mass = unigrams.filter((l) => !l.includes("<s>")).reduce((sum, l) => sum + 10 ** Number(l.split(" ")[0]), 0);
    expect(mass).toBeGreaterThan(0.99);
    expect(mass).toBeLessThan(1.01);
  });
});
