import { describe, expect, it } from "vitest";
import { parseTemplate, TemplateSyntaxError } from "./template.js";
import { expand } from "./vocabulary.js";
import { tokenize } from "./text.js";
import type { Grammar } from "./grammar.js";

const parse = (t: string) => parseTemplate(t, (w) => tokenize(w, "en"));
const grammar = { rules: { cart: parse("[my] (cart|basket)") } } as unknown as Grammar;
const sentences = (t: string) => expand(parse(t), grammar).map((w) => w.join(" ")).sort();

describe("template syntax", () => {
  it("expands alternatives, optionals, permutations, rules and slots", () => {
    expect(sentences("(add|put) [the] {product}")).toEqual(["add the {product}", "add {product}", "put the {product}", "put {product}"].sort());
    expect(sentences("(red;big) ball")).toEqual(["big red ball", "red big ball"]);
    expect(sentences("to <cart>")).toEqual(["to basket", "to cart", "to my basket", "to my cart"]);
    expect(sentences("{number:quantity} x")).toEqual(["{quantity} x"]);
  });

  it("tokenizes literal words like input (case, apostrophes)", () => {
    expect(sentences("What's IN")).toEqual(["what's in"]);
  });

  it.each([
    ["(add|put", "'(' is never closed at column 1"],
    ["add [the", "'[' is never closed at column 5"],
    ["add the)", "unexpected ')' at column 8"],
    ["add {product", "'{' is never closed at column 5"],
    ["(a|b;c)", "'|' and ';' cannot be mixed"],
    ["add {}", "empty name"],
  ])("reports %s with what and where", (template, message) => {
    expect(() => parse(template)).toThrow(TemplateSyntaxError);
    expect(() => parse(template)).toThrow(message);
  });
});
