import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IntentFileError, loadGrammar } from "./load-intents.js";
import { IntentMatcher } from "./matcher.js";

const COMMON = `language: en
lists:
  quantity:
    range: { from: 1, to: 20 }
  product:
    catalog: true
  pin:
    digits: { min: 4, max: 4 }
  size:
    values:
      - in: "(small|little)"
        out: S
      - large
numbers:
  "(one|a)": 1
  two: 2
  three: 3
  four: 4
  "a dozen": 12
expansion_rules:
  cart: "[to] [my] (cart|basket)"
skip_words: [please]
`;

function intentsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "talkcart-intents-"));
  mkdirSync(join(dir, "en"));
  for (const [name, text] of Object.entries({ "_common.yaml": COMMON, ...files })) writeFileSync(join(dir, "en", name), text);
  return dir;
}

const ADD = `language: en
intents:
  AddToCart:
    data:
      - sentences:
          - "add [{quantity}] [{size}] {product} [<cart>]"
`;

describe("loading intent files", () => {
  it("names the file and line of a template error", () => {
    const dir = intentsDir({ "AddToCart.yaml": ADD.replace("[<cart>]", "[<cart>") });
    expect(() => loadGrammar(dir, "en")).toThrow(IntentFileError);
    expect(() => loadGrammar(dir, "en")).toThrow(/AddToCart\.yaml:6: '\[' is never closed/);
  });

  it("names unknown rules and lists with the line that uses them", () => {
    expect(() => loadGrammar(intentsDir({ "AddToCart.yaml": ADD.replace("<cart>", "<trolley>") }), "en")).toThrow(/AddToCart\.yaml:6: unknown expansion rule <trolley>/);
    expect(() => loadGrammar(intentsDir({ "AddToCart.yaml": ADD.replace("{size}", "{colour}") }), "en")).toThrow(/AddToCart\.yaml:6: unknown list \{colour\}/);
  });

  it("reports invalid YAML and wrong shapes with a line", () => {
    expect(() => loadGrammar(intentsDir({ "AddToCart.yaml": "language: en\nintents:\n  AddToCart: [\n" }), "en")).toThrow(/AddToCart\.yaml:\d+: invalid YAML/);
    expect(() => loadGrammar(intentsDir({ "AddToCart.yaml": "language: en\nintents:\n  AddToCart:\n    data: nope\n" }), "en")).toThrow(/AddToCart\.yaml:4: intent 'AddToCart' data must be a list/);
    expect(() => loadGrammar(intentsDir({ "AddToCart.yaml": ADD.replace("language: en", "language: de") }), "en")).toThrow(/AddToCart\.yaml:1: language is 'de'/);
  });

  it("checks number words and list values like templates", () => {
    const badNumber = intentsDir({ "_common.yaml": COMMON.replace('"a dozen": 12', '"(a dozen": 12'), "AddToCart.yaml": ADD });
    expect(() => loadGrammar(badNumber, "en")).toThrow(/_common\.yaml:\d+: number '\(a dozen': '\(' is never closed/);
    const badValue = intentsDir({ "_common.yaml": COMMON.replace('in: "(small|little)"', 'in: "(small|little) <nosuchrule>"'), "AddToCart.yaml": ADD });
    expect(() => loadGrammar(badValue, "en")).toThrow(/_common\.yaml:\d+: unknown expansion rule <nosuchrule> in a list value/);
  });

  it("refuses expansion rule cycles", () => {
    const dir = intentsDir({ "_common.yaml": COMMON.replace('cart: "[to] [my] (cart|basket)"', 'cart: "<basket>"\n  basket: "[my] <cart>"'), "AddToCart.yaml": ADD });
    expect(() => loadGrammar(dir, "en")).toThrow(/expansion rule cycle/);
  });

  it("takes a response named after a domain's intent when it uses that intent's slots, and names the line of one that does not", () => {
    const ORDER = `language: en\nintents:\n  OrderDrink:\n    data:\n      - sentences:\n          - "[a] [{quantity}] [{size}] {product} please"\n`;
    const responses = (key: string, text: string) => `language: en\nresponses:\n  cannot_do: "Sorry."\n  ${key}: "${text}"\n`;
    const fine = loadGrammar(intentsDir({ "OrderDrink.yaml": ORDER, "responses.yaml": responses("OrderDrink", "{quantity} {size} {product:acc}, done.") }), "en");
    expect(fine.responses.OrderDrink).toEqual(["{quantity} {size} {product:acc}, done."]);
    expect(() => loadGrammar(intentsDir({ "OrderDrink.yaml": ORDER, "responses.yaml": responses("OrderDrink", "{quantity} {colour} {product}") }), "en"))
      .toThrow(/responses\.yaml:4: response 'OrderDrink' uses \{colour\}, which intent OrderDrink has no slot for \(its slots: \{quantity\}, \{size\}, \{product\}\)/);
    expect(() => loadGrammar(intentsDir({ "OrderDrink.yaml": ORDER, "responses.yaml": responses("OrderDrink", "{quantity {product}") }), "en"))
      .toThrow(/responses\.yaml:4: response 'OrderDrink' has a brace that is not a \{slot\}/);
    // talkcart answers AddToCart itself: a response of that name would never be said.
    expect(() => loadGrammar(intentsDir({ "AddToCart.yaml": ADD, "responses.yaml": responses("AddToCart", "{product}, done.") }), "en"))
      .toThrow(/responses\.yaml:4: response 'AddToCart' is named after an intent talkcart answers itself/);
  });

  it("says which folder is missing for an unknown locale", () => {
    expect(() => loadGrammar(intentsDir({ "AddToCart.yaml": ADD }), "fr")).toThrow(/no intent files for locale 'fr'/);
  });
});

describe("matching", () => {
  const grammar = loadGrammar(intentsDir({
    "AddToCart.yaml": ADD,
    "ProvidePin.yaml": `language: en\nintents:\n  ProvidePin:\n    data:\n      - sentences:\n          - "[my pin is] {pin}"\n`,
    "Yes.yaml": `language: en\nintents:\n  Yes:\n    data:\n      - sentences: ["(yes|yeah)"]\n        slots: { answer: "yes" }\n`,
  }), "en");
  const catalog = { score: (p: string) => (["coffee", "lego"].includes(p) ? 1 : p.includes("coffee") ? 0.5 : 0) };
  const matcher = new IntentMatcher(grammar, catalog);

  it("fills list, number-word and catalog slots, skipping skip words", () => {
    expect(matcher.parse("Please add a dozen small coffee to my basket!").best).toMatchObject({ intent: "AddToCart", slots: { quantity: 12, size: "S", product: "coffee" }, score: 1 });
    expect(matcher.parse("add 3 large lego").best?.slots).toEqual({ quantity: 3, size: "large", product: "lego" });
  });

  it("prefers the reading whose catalog words name something", () => {
    expect(matcher.parse("add two coffee").best?.slots).toEqual({ quantity: 2, product: "coffee" });
  });

  it("reads spoken and written PIN digits", () => {
    expect(matcher.parse("my pin is four three two one").best?.slots.pin).toBe("4321");
    expect(matcher.parse("4 3 2 1").best?.slots.pin).toBe("4321");
    expect(matcher.parse("my pin is four three").best).toBeNull();
  });

  it("adds a block's fixed slots", () => {
    expect(matcher.parse("yeah").best).toMatchObject({ intent: "Yes", slots: { answer: "yes" } });
  });

  it("rejects what is mostly unexplained, but keeps the alternatives for inspection", () => {
    const r = matcher.parse("add the lights in the kitchen");
    expect(r.best).toBeNull();
    expect(r.alternatives[0]?.intent).toBe("AddToCart");
    expect(matcher.parse("turn on the lights").best).toBeNull();
  });
});
