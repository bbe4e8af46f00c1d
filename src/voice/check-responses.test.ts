import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadGrammar } from "../nlu/load-intents.js";
import { responseProblems } from "./check-responses.js";

const intents = join(import.meta.dirname, "../../intents");

describe("responses", () => {
  it("German answers everything English does, with the same placeholders", () => {
    const en = loadGrammar(intents, "en").responses;
    expect(responseProblems(loadGrammar(intents, "de").responses, en)).toEqual([]);
  });

  it("names a missing response and a renamed placeholder", () => {
    const reference = { added: ["{item}, {price}. Anything else?"], goodbye: ["Bye"] };
    expect(responseProblems({ added: ["{item}, {prise}."] }, reference)).toEqual([
      "response 'added' uses {prise}, which the dialogue does not fill (it fills {item}, {price})",
      "missing response 'goodbye' (Bye)",
    ]);
    expect(responseProblems({ added: ["Du hast {item:acc} für {price}."], goodbye: ["Tschüss"] }, reference)).toEqual([]);
  });
});
