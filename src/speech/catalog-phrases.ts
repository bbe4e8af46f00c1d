import pluralize from "pluralize";
import { tokenize } from "../nlu/text.js";
import { inWords, unitSpellings } from "../voice/speech-format.js";

/** The catalog data the phrases come from: a shop's categories and products. */
export interface CatalogData {
  categories: { name: Record<string, string>; plural: Record<string, string> }[];
  products: {
    name: string;
    brand: string;
    variant?: Record<string, string>;
    unit?: Record<string, [string, string]>;
    terms: Record<string, string[]>;
    i18n?: Record<string, { name?: string; variant?: Record<string, string> }>;
  }[];
}

/**
 * What a shopper may call a product, for the recognizer's `{product}` slot. The typed path finds
 * products by search and needs none of this, but a recognizer hears only the words it is given:
 * - names, brands, category words and terms;
 * - a name with its variant said out, as the replies say it ("lavazza crema one kilo") and with the
 *   unit's other spellings ("one kilogram", "five hundred grammes"; the grammar keeps one of those
 *   that sound alike);
 * - brand and term together, the way people name things: "ariel pods", "lego police station";
 * - English terms of things counted by the piece in the plural too ("add two teddy bears",
 *   "search for unicorns").
 *   German terms list their plurals themselves: no inflection library covers German well enough.
 */
export function catalogPhrasesOf(catalog: CatalogData, locale: string): string[] {
  const phrases = new Set<string>();
  const add = (p: string | undefined) => {
    const words = p ? tokenize(inWords(p, locale), locale) : [];
    if (words.length) phrases.add(words.join(" "));
  };
  // Plurals only of things counted by the piece ("two teddy bears", not "dog foods"); and no singulars:
  // made by rule they go wrong more often ("cookies" -> "cooky"), and terms list the singular anyway.
  const inflected = (term: string, countable: boolean) => (locale === "en" && countable ? [term, pluralize.plural(term)] : [term]);
  for (const c of catalog.categories) { add(c.name[locale]); add(c.plural[locale]); }
  for (const p of catalog.products) {
    const name = p.i18n?.[locale]?.name ?? p.name;
    add(name);
    add(p.brand);
    for (const value of Object.values(p.i18n?.[locale]?.variant ?? p.variant ?? {})) sizeSpellings(inWords(`${name} ${value}`, locale), locale).forEach(add);
    const brand = tokenize(p.brand, locale).join(" ");
    const countable = (p.unit?.en?.[0] ?? "piece") === "piece";
    // A term that is the product's or brand's own name has no plural ("two cluedos"), nor has "settlers of catan".
    const named = new Set([name, p.brand].map((n) => tokenize(n, locale).join(" ")));
    for (const term of p.terms[locale] ?? []) {
      const words = tokenize(term, locale);
      inflected(term, countable && !named.has(words.join(" ")) && !words.includes("of")).forEach(add);
      if (!words.join(" ").startsWith(brand)) add(`${p.brand} ${term}`);
    }
  }
  return [...phrases].sort();
}

/** A phrase ending in a size, with its unit in every spelling of the same number: "one kilo", "one kilogram", "one kilogramme". */
function sizeSpellings(phrase: string, locale: string): string[] {
  const words = tokenize(phrase, locale);
  const unit = words.at(-1) ?? "";
  const plural = (w: string) => locale === "en" && pluralize.isPlural(w);
  const spellings = unitSpellings(unit, locale).filter((s) => plural(s) === plural(unit));
  return spellings.length ? [phrase, ...spellings.map((s) => [...words.slice(0, -1), s].join(" "))] : [phrase];
}
