import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalogPhrasesOf, type CatalogData } from "./catalog-phrases.js";

const seed = JSON.parse(readFileSync("src/shop/seed/catalog.json", "utf8")) as CatalogData;

const product = (over: Partial<CatalogData["products"][number]>): CatalogData["products"][number] => ({ name: "X", brand: "B", terms: {}, ...over });

describe("catalogPhrasesOf: what a shopper may call a product, for the recognizer", () => {
  it("has names, brands, category words and terms", () => {
    const phrases = catalogPhrasesOf(seed, "en");
    expect(phrases).toEqual(expect.arrayContaining(["lavazza crema", "lavazza", "coffee", "teddy bear"]));
  });

  it("says a variant with the name, as the replies say it", () => {
    const phrases = catalogPhrasesOf({ categories: [], products: [product({ name: "Lavazza Crema", brand: "Lavazza", variant: { size: "500 g" } })] }, "en");
    expect(phrases).toContain("lavazza crema five hundred grams");
    // and with the unit's other spellings of the same number: "kilo" is no "kilogram" to a recognizer
    const kilo = catalogPhrasesOf({ categories: [], products: [product({ name: "Lavazza Crema", variant: { size: "1 kg" } })] }, "en");
    expect(kilo).toEqual(expect.arrayContaining(["lavazza crema one kilo", "lavazza crema one kilogram"]));
    expect(kilo).not.toContain("lavazza crema one kilograms");
    const german = catalogPhrasesOf({ categories: [], products: [product({ name: "Puzzle", variant: { size: "1000 pieces" }, i18n: { de: { variant: { size: "1000 Teile" } } } })] }, "de");
    expect(german).toContain("puzzle eintausend teile");
  });

  it("puts brand and term together, once", () => {
    const lego = product({ name: "LEGO City Police Station", brand: "LEGO", terms: { en: ["police station", "lego set"] } });
    const phrases = catalogPhrasesOf({ categories: [], products: [lego] }, "en");
    expect(phrases).toContain("lego police station");
    expect(phrases).not.toContain("lego lego set");
  });

  it("adds English plurals of things counted by the piece, and no inflection by rule in German", () => {
    const bear = product({ name: "Steiff Teddy", brand: "Steiff", terms: { en: ["teddy bear", "unicorn"], de: ["Teddybär"] } });
    expect(catalogPhrasesOf({ categories: [], products: [bear] }, "en")).toEqual(expect.arrayContaining(["teddy bears", "unicorns"]));
    const game = product({ name: "Cluedo", brand: "Hasbro", terms: { en: ["cluedo", "settlers of catan", "board game"] } });
    const games = catalogPhrasesOf({ categories: [], products: [game] }, "en");
    expect(games).toContain("board games");
    expect(games).not.toContain("cluedos");
    expect(games).not.toContain("settlers of catans");
    const food = product({ name: "Cesar Classic", brand: "Cesar", unit: { en: ["tray", "trays"] }, terms: { en: ["dog food"] } });
    expect(catalogPhrasesOf({ categories: [], products: [food] }, "en")).not.toContain("dog foods");
    const german = catalogPhrasesOf({ categories: [], products: [bear] }, "de");
    expect(german).toContain("teddybär");
    expect(german.some((p) => p.startsWith("teddybär") && p !== "teddybär")).toBe(false);
  });

  it("says a countable name in the plural where it ends in a term (\"two lego technic race cars\"), never a proper name", () => {
    const car = product({ name: "LEGO Technic Race Car", brand: "LEGO", terms: { en: ["race car", "technic"] } });
    const phrases = catalogPhrasesOf({ categories: [], products: [car] }, "en");
    expect(phrases).toEqual(expect.arrayContaining(["lego technic race car", "lego technic race cars", "race cars"]));
    // A name that does not end in a term is a proper name: no plural by rule.
    const game = product({ name: "Monopoly Classic", brand: "Hasbro", terms: { en: ["board game", "monopoly"] } });
    expect(catalogPhrasesOf({ categories: [], products: [game] }, "en")).not.toContain("monopoly classics");
    const coffee = product({ name: "Lavazza Crema", brand: "Lavazza", unit: { en: ["pack", "packs"] }, terms: { en: ["crema"] } });
    expect(catalogPhrasesOf({ categories: [], products: [coffee] }, "en")).not.toContain("lavazza cremas");
  });

  it("puts an English colour before each term, in both numbers, but not before one that names a colour", () => {
    const scarf = product({ name: "Codello Cashmere Blend Scarf", brand: "Codello", variant: { colour: "grey" }, terms: { en: ["cashmere scarf", "gray scarf", "scarf"], de: ["Kaschmirschal"] } });
    const phrases = catalogPhrasesOf({ categories: [], products: [scarf] }, "en");
    expect(phrases).toEqual(expect.arrayContaining(["grey cashmere scarf", "grey cashmere scarves", "grey scarf", "gray scarves"]));
    expect(phrases.filter((p) => p.includes("grey gray"))).toEqual([]);
    // a size is said after the name, not as a colour
    const sized = product({ name: "Lavazza Crema", variant: { size: "1 kg" }, terms: { en: ["coffee"] } });
    expect(catalogPhrasesOf({ categories: [], products: [sized] }, "en").filter((p) => p.startsWith("one "))).toEqual([]);
    expect(catalogPhrasesOf({ categories: [], products: [scarf] }, "de")).not.toContain("grey kaschmirschal");
  });
});
