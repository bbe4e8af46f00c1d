import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadGrammar } from "../nlu/load-intents.js";
import type { Product } from "../shop/types.js";
import { renderReply } from "./reply.js";

const products = (JSON.parse(readFileSync("src/shop/seed/catalog.json", "utf8")).products as Product[]).slice(0, 6);
const lines = (n: number) => products.slice(0, n).map((product) => ({ quantity: 1, product }));
const render = (locale: "en" | "de", key: string, n: number) =>
  renderReply({ key, vars: { items: { lines: lines(n) }, total: { money: 1000 } } }, loadGrammar("intents", locale).responses, locale, () => "");

describe("a long cart read out: four lines, then how many more", () => {
  it("counts the rest in English", () => {
    expect(render("en", "cart_contents", 5)).toMatch(/ and one more\. That's/);
    expect(render("en", "cart_contents", 6)).toMatch(/ and two more\. That's/);
  });

  it("says one more in German with article and case, not \"eins weitere\"", () => {
    expect(render("de", "confirm_clear", 5)).toMatch(/ und einen weiteren Artikel\. Soll ich/); // "Du hast ...": accusative
    expect(render("de", "cart_contents", 6)).toMatch(/ und zwei weitere Artikel\./);
    expect(render("de", "confirm_clear", 5)).not.toMatch(/eins weitere/);
  });
});
