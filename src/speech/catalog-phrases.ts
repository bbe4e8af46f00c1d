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
 *   "search for unicorns"), and so the names that end in such a term ("two lego technic race cars");
 * - an English colour (any variant but a size) before a term: "grey cashmere scarves".
 *   German terms list their plurals themselves: no inflection library covers German well enough,
 *   nor German adjective endings ("grauer Schal").
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
  // Every variant but a size is a colour (or the like: "warm white"), said before the noun in English.
  const coloursOf = (variant: Record<string, string>) => Object.entries(variant).filter(([key]) => key !== "size").map(([, value]) => tokenize(value, locale).join(" "));
  const colourWords = new Set(["gray", "grey", ...catalog.products.flatMap((p) => coloursOf(p.variant ?? {}).flatMap((c) => c.split(" ")))]);
  // A term that names a colour already ("gray scarf") takes no other.
  const coloured = (term: string) => term.split(" ").some((w) => colourWords.has(w));
  for (const p of catalog.products) {
    const name = p.i18n?.[locale]?.name ?? p.name;
    add(name);
    add(p.brand);
    const variant = p.i18n?.[locale]?.variant ?? p.variant ?? {};
    for (const value of Object.values(variant)) sizeSpellings(inWords(`${name} ${value}`, locale), locale).forEach(add);
    const brand = tokenize(p.brand, locale).join(" ");
    const countable = (p.unit?.en?.[0] ?? "piece") === "piece";
    const nameWords = tokenize(name, locale).join(" ");
    // A term that is the product's or brand's own name has no plural ("two cluedos"), nor has "settlers of catan".
    const named = new Set([nameWords, brand]);
    const colours = locale === "en" ? coloursOf(variant) : [];
    for (const term of p.terms[locale] ?? []) {
      const words = tokenize(term, locale).join(" ");
      const forms = inflected(words, countable && !named.has(words) && !words.split(" ").includes("of"));
      forms.forEach(add);
      if (!words.startsWith(brand)) add(`${p.brand} ${term}`);
      // The name ends in the term: its plural is the name's ("lego technic race car" -> "... race cars").
      if (forms.length > 1 && nameWords.endsWith(` ${words}`)) add(`${nameWords.slice(0, -words.length)}${forms[1]}`);
      if (!coloured(words)) for (const colour of colours) forms.forEach((form) => add(`${colour} ${form}`));
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
