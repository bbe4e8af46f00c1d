import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadGrammar } from "../nlu/load-intents.js";
import { intentResponseProblems, responseProblems } from "./check-responses.js";

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

  it("takes an intent's response that uses its slots, and names a slot it does not have or a stray brace", () => {
    const slots = ["quantity", "size", "drink"];
    expect(intentResponseProblems("OrderDrink", "{quantity} {size} {drink}, coming up.", slots)).toEqual([]);
    expect(intentResponseProblems("OrderDrink", "{quantity} {colour} {drink}", slots)).toEqual([
      "response 'OrderDrink' uses {colour}, which intent OrderDrink has no slot for (its slots: {quantity}, {size}, {drink})",
    ]);
    expect(intentResponseProblems("OrderDrink", "{quantity} {drink", slots)).toEqual([
      'response \'OrderDrink\' has a brace that is not a {slot}: "{quantity} {drink"',
    ]);
    expect(intentResponseProblems("Hello", "Hi {name}!", [])).toEqual(["response 'Hello' uses {name}, which intent Hello has no slot for (it has none)"]);
  });
});
