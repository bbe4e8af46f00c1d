import { describe, expect, it } from "vitest";
import type { Product } from "../shop/types.js";
import { inWords, isUnitWord, saysOnlyASize, spokenMeasures, spokenMoney, unitsSaid, unitTerm } from "./speech-format.js";

describe("spokenMeasures: sizes said out, so a voice does not spell the unit", () => {
  it("says amounts with units in English and German, one vs several", () => {
    expect(spokenMeasures("Lavazza Crema (500 g), eight euros", "en")).toBe("Lavazza Crema (five hundred grams), eight euros");
    expect(spokenMeasures("Lavazza Crema (1 kg)", "en-GB")).toBe("Lavazza Crema (one kilo)");
    expect(spokenMeasures("1,5 l Milch, 1 kg Äpfel", "de")).toBe("eins komma fünf Liter Milch, ein Kilo Äpfel");
  });

  it("says a unit after a number already in words (a count of kilos)", () => {
    expect(spokenMeasures("two kg of Chiquita Bananas", "en")).toBe("two kilos of Chiquita Bananas");
    expect(spokenMeasures("one kg of bananas", "en")).toBe("one kilo of bananas");
    expect(spokenMeasures("zwei kg Bananen", "de")).toBe("zwei Kilo Bananen");
  });

  it("leaves words that only look like units alone, and languages it has no words for", () => {
    expect(spokenMeasures("ten mugs, an E27 bulb, I'm here", "en")).toBe("ten mugs, an E27 bulb, I'm here");
    expect(spokenMeasures("a 5G phone, 2 M&Ms, per kg", "en")).toBe("a 5G phone, 2 M&Ms, per kg");
    expect(spokenMeasures("500 g", "fr")).toBe("500 g");
  });

  it("reads thousands separators and decimal commas", () => {
    expect(spokenMeasures("1,000 g", "en")).toBe("one thousand grams");
    expect(spokenMeasures("1.000 g", "de")).toBe("eintausend Gramm");
    expect(spokenMeasures("twenty-five kg", "en")).toBe("twenty-five kilos");
  });
});

describe("inWords: a catalog text as a recognizer hears it", () => {
  it("turns sizes and other numbers into words", () => {
    expect(inWords("500 pieces", "en")).toBe("five hundred pieces");
    expect(inWords("Ariel Pods Universal 18 loads", "en")).toBe("Ariel Pods Universal eighteen loads");
    expect(inWords("500 Teile", "de")).toBe("fünfhundert Teile");
    expect(inWords("1.5", "en")).toBe("one point five");
    expect(inWords("e27 bulb", "en")).toBe("e27 bulb"); // a digit inside a word is part of a name
  });
});

describe("isUnitWord", () => {
  it("knows units said out, in either number, and nothing else", () => {
    expect(["grams", "kilo", "litres"].every((w) => isUnitWord(w, "en"))).toBe(true);
    expect(isUnitWord("Gramm", "de")).toBe(true);
    expect(["bananas", "packs", "g"].some((w) => isUnitWord(w, "en"))).toBe(false);
  });

  it("knows the other spellings shoppers use, and names each unit with the replies' word", () => {
    expect(["kilograms", "grammes", "milliliters", "Liter"].every((w) => isUnitWord(w, "en"))).toBe(true);
    expect(["grammes", "grams", "gram", "gramme"].map((w) => unitTerm(w, "en"))).toEqual(["gram", "gram", "gram", "gram"]);
    expect(unitTerm("kilograms", "en")).toBe("kilo");
    expect(unitTerm("liters", "en-US")).toBe("litre");
    expect(unitTerm("Kilogramm", "de")).toBe("kilo");
    expect(unitTerm("coffee", "en")).toBeUndefined();
  });

  it("tells words that say only a size from words that name a product too", () => {
    expect(saysOnlyASize(["kilograms"], "en")).toBe(true);
    expect(saysOnlyASize(["five", "hundred", "grams"], "en")).toBe(true);
    expect(saysOnlyASize(["3", "kg"], "en")).toBe(true);
    expect(saysOnlyASize(["fünfhundert", "Gramm"], "de")).toBe(true);
    expect(saysOnlyASize(["lavazza", "crema", "five", "hundred", "grams"], "en")).toBe(false);
    expect(saysOnlyASize(["bananas"], "en")).toBe(false);
    expect(saysOnlyASize([], "en")).toBe(false);
  });
});

describe("spokenMoney", () => {
  it("says one of a coin as a count before its noun: \"ein Cent\", \"ein Euro\"", () => {
    expect(spokenMoney(1, "de")).toBe("ein Cent");
    expect(spokenMoney(199, "de")).toBe("ein Euro neunundneunzig");
    expect(spokenMoney(1, "en")).toBe("one cent");
  });
});

describe("unitsSaid: what a product is counted in, several of it, as said", () => {
  const sold = (unit: Product["unit"]) => ({ unit }) as Product;
  it("says abbreviations out and leaves words as they are; a product without a unit is counted in pieces", () => {
    const bananas = sold({ en: ["kg", "kg"], de: ["Kilo", "Kilo"] });
    expect(unitsSaid(bananas, "en")).toBe("kilos");
    expect(unitsSaid(bananas, "de")).toBe("Kilo");
    expect(unitsSaid(sold({ en: ["pack", "packs"], de: ["Packung", "Packungen"] }), "de")).toBe("Packungen");
    expect(unitsSaid(sold({ en: ["l", "l"] }), "de")).toBe("Liter"); // no German unit: the English one, said in German
    expect(unitsSaid(sold({}), "en")).toBe("pieces");
  });
});
