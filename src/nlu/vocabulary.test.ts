import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadGrammar } from "./load-intents.js";
import { grammarPhrases, grammarWords } from "./vocabulary.js";

const intents = join(import.meta.dirname, "../../intents");

describe("grammar vocabulary (for recognizer grammars and phrase lists)", () => {
  it("has every template word, list value and number word, plus the catalog's words", () => {
    const g = loadGrammar(intents, "en");
    const words = grammarWords(g, ["lavazza crema"]);
    for (const w of ["add", "cart", "checkout", "twenty", "dozen", "second", "lavazza", "crema"]) expect(words).toContain(w);
    expect(words).not.toContain("{product}");
    expect(new Set(words).size).toBe(words.length);
  });

  it("lists whole phrases: list values, number words and catalog names", () => {
    const phrases = grammarPhrases(loadGrammar(intents, "de"), ["Lavazza Crema"]);
    expect(phrases).toContain("Lavazza Crema");
    expect(phrases).toContain("ein dutzend");
    expect(phrases.some((p) => p.includes("packung"))).toBe(true);
  });
});
