import { toCardinal as enCardinal } from "n2words/en-IE";
import { toCardinal as deCardinal } from "n2words/de-DE";
import type { Locale, Product } from "../shop/types.js";

/** Numbers, money, quantities and lists written the way they are spoken, per locale. */
const cardinal: Record<Locale, (n: number) => string> = { en: enCardinal, de: deCardinal };

export function spokenNumber(n: number, locale: Locale): string {
  return cardinal[locale](n);
}

/**
 * A number the shopper may say back, such as an order number: up to 99 as a number ("order
 * seven"), longer ones digit by digit ("order one zero four two") the way people read out
 * references, and the way the intent grammar hears numbers beyond its number words.
 */
export function spokenReference(n: number, locale: Locale): string {
  return n < 100 ? spokenNumber(n, locale) : [...String(n)].map((d) => spokenNumber(Number(d), locale)).join(" ");
}

/** Units as catalogs write them, and as they are said: [one, several]. */
const UNIT_WORDS: Record<Locale, Record<string, [string, string]>> = {
  en: {
    mg: ["milligram", "milligrams"], g: ["gram", "grams"], kg: ["kilo", "kilos"],
    ml: ["millilitre", "millilitres"], cl: ["centilitre", "centilitres"], l: ["litre", "litres"],
    mm: ["millimetre", "millimetres"], cm: ["centimetre", "centimetres"], m: ["metre", "metres"],
  },
  de: {
    mg: ["Milligramm", "Milligramm"], g: ["Gramm", "Gramm"], kg: ["Kilo", "Kilo"],
    ml: ["Milliliter", "Milliliter"], cl: ["Zentiliter", "Zentiliter"], l: ["Liter", "Liter"],
    mm: ["Millimeter", "Millimeter"], cm: ["Zentimeter", "Zentimeter"], m: ["Meter", "Meter"],
  },
};
/** An amount standing on its own ("500", "1,5", "1,000"; not the 27 of "E27"), alone or before a unit (case as written). */
const AMOUNT = /(?<![\p{L}\d.,])\d+(?:[.,]\d+)?(?![\p{L}\d])/gu;
const MEASURE = /(?<![\p{L}\d.,])(\d+(?:[.,]\d+)?)\s?(mg|kg|g|ml|cl|l|L|mm|cm|m)(?![\p{L}\d])/gu;
/** After a number already in words ("two kg of bananas") the longer abbreviations are units. */
const UNIT_AFTER_WORD = /([\p{L}-]+)(\s)(kg|mg|ml|cl)(?![\p{L}\d])/gu;

/** "1,5" and "1.5" are one and a half; a separator before exactly three digits groups thousands ("1,000", "1.000"). */
function amountOf(written: string): number {
  return Number(/^\d{1,3}([.,]\d{3})+$/.test(written) ? written.replace(/[.,]/g, "") : written.replace(",", "."));
}

/**
 * "Lavazza Crema (500 g)" -> "Lavazza Crema (five hundred grams)": a voice reads the abbreviation
 * as letters ("five hundred gee"), and a shopper who hears it that way cannot say it back.
 */
export function spokenMeasures(text: string, locale: string): string {
  const language = languageOf(locale);
  if (!language) return text;
  const unitWord = (n: number, unit: string) => UNIT_WORDS[language][unit.toLowerCase()][n === 1 ? 0 : 1];
  return text
    .replace(MEASURE, (_, amount: string, unit: string) => {
      const n = amountOf(amount);
      return `${countBeforeNoun(n, language)} ${unitWord(n, unit)}`;
    })
    .replace(UNIT_AFTER_WORD, (all: string, word: string, space: string, unit: string) => {
      const n = numberWords(language).get(word.toLowerCase());
      return n === undefined ? all : `${word}${space}${unitWord(n, unit)}`;
    });
}

const numberWordsCache = new Map<Locale, Map<string, number>>();
/** "one" -> 1, "twenty-five" -> 25, "a" -> 1, "zwei" -> 2: the number words up to 100 as the replies write them. */
function numberWords(language: Locale): Map<string, number> {
  let words = numberWordsCache.get(language);
  if (!words) {
    words = new Map([["a", 1], ["an", 1], ["ein", 1], ["eine", 1], ["einen", 1]]);
    for (let n = 0; n <= 100; n++) words.set(spokenNumber(n, language).toLowerCase(), n);
    numberWordsCache.set(language, words);
  }
  return words;
}

/** Other spellings shoppers use for the same units (the replies say UNIT_WORDS): US "-er", "gramme", "kilogram". */
const OTHER_SPELLINGS: Record<Locale, Record<string, string[]>> = {
  en: {
    mg: ["milligramme", "milligrammes"], g: ["gramme", "grammes"], kg: ["kilogram", "kilograms", "kilogramme", "kilogrammes"],
    ml: ["milliliter", "milliliters"], cl: ["centiliter", "centiliters"], l: ["liter", "liters"],
    mm: ["millimeter", "millimeters"], cm: ["centimeter", "centimeters"], m: ["meter", "meters"],
  },
  de: { kg: ["Kilogramm"] },
};

/** Every spelling of every unit, lower-case -> unit (searched once per word of a catalog or query). */
const UNIT_SPELLINGS = Object.fromEntries(
  (Object.keys(UNIT_WORDS) as Locale[]).map((language) => [
    language,
    new Map(Object.entries(UNIT_WORDS[language]).flatMap(([unit, forms]) => [...forms, ...(OTHER_SPELLINGS[language][unit] ?? [])].map((f) => [f.toLowerCase(), unit] as const))),
  ]),
) as Record<Locale, Map<string, string>>;

/** The unit a word says out, in any spelling ("grammes" -> "g"); undefined for any other word (abbreviations included). */
export function unitSaidBy(word: string, locale: string): string | undefined {
  const language = languageOf(locale);
  return language && UNIT_SPELLINGS[language].get(word.toLowerCase());
}

/** Every spelling of the unit a word says ("kilo" -> kilo, kilos, kilogram, ...), lower-case; [] for any other word. */
export function unitSpellings(word: string, locale: string): string[] {
  const unit = unitSaidBy(word, locale);
  const language = languageOf(locale);
  return unit && language ? [...UNIT_SPELLINGS[language]].filter(([, u]) => u === unit).map(([spelling]) => spelling) : [];
}

/** "grams", "kilograms", "Liter": a unit said out, which ends a size ("five hundred grams") and is no plural of a product. */
export function isUnitWord(word: string, locale: string): boolean {
  return unitSaidBy(word, locale) !== undefined;
}

/** The one word the replies use for a unit, whatever spelling was said ("grammes", "grams" -> "gram"): a search term. */
export function unitTerm(word: string, locale: string): string | undefined {
  const unit = unitSaidBy(word, locale);
  return unit && UNIT_WORDS[languageOf(locale)!][unit][0].toLowerCase();
}

/** Words that say only a size or a count ("kilograms", "five hundred grams", "3 kg"): they name no product. */
export function saysOnlyASize(words: string[], locale: string): boolean {
  const language = languageOf(locale);
  return !!language && words.length > 0 && words.every((w) => isUnitWord(w, locale) || /^\d+([.,]\d+)?$/.test(w) || sizeWords(language).has(w.toLowerCase()));
}
const sizeWordsCache = new Map<Locale, Set<string>>();
/** Unit abbreviations and the words of numbers up to a thousand ("five", "hundred", "fünfhundert"). */
function sizeWords(language: Locale): Set<string> {
  let words = sizeWordsCache.get(language);
  if (!words) {
    words = new Set([...Object.keys(UNIT_WORDS[language]), ...numberWords(language).keys()]);
    for (let n = 100; n <= 1000; n += 100) spokenNumber(n, language).toLowerCase().split(/[\s-]+/).forEach((w) => words!.add(w));
    sizeWordsCache.set(language, words);
  }
  return words;
}

/** A catalog text in words only, as a recognizer hears it: "500 pieces" -> "five hundred pieces". */
export function inWords(text: string, locale: string): string {
  const language = languageOf(locale);
  const measures = spokenMeasures(text, locale);
  return language ? measures.replace(AMOUNT, (d) => spokenNumber(amountOf(d), language)) : measures;
}

/** A count said before its noun: German "ein Kilo", "ein Euro", not "eins". */
function countBeforeNoun(n: number, language: Locale): string {
  return n === 1 && language === "de" ? "ein" : spokenNumber(n, language);
}

/** "en-US" -> "en"; undefined for a language without number words here. */
function languageOf(locale: string): Locale | undefined {
  const language = locale.slice(0, 2).toLowerCase();
  return language in cardinal ? (language as Locale) : undefined;
}

/** 998 -> "nine euros ninety-eight" / "neun Euro achtundneunzig"; 50 -> "fifty cents". */
export function spokenMoney(cents: number, locale: Locale): string {
  const euros = Math.floor(cents / 100);
  const rest = cents % 100;
  const say = cardinal[locale];
  if (locale === "de") {
    if (euros === 0) return `${countBeforeNoun(rest, locale)} Cent`;
    const e = `${countBeforeNoun(euros, locale)} Euro`;
    return rest ? `${e} ${say(rest)}` : e;
  }
  if (euros === 0) return `${say(rest)} ${rest === 1 ? "cent" : "cents"}`;
  const e = `${say(euros)} ${euros === 1 ? "euro" : "euros"}`;
  return rest ? `${e} ${say(rest)}` : e;
}

/** The product's name in this locale, without its variant: "Steiff Classic Teddybär". */
export function familyName(p: Product, locale: Locale): string {
  return p.i18n?.[locale]?.name ?? p.name;
}

/** The variant in this locale: "1 kg", "weiß". */
export function variantLabel(p: Product, locale: Locale): string {
  return Object.values(p.i18n?.[locale]?.variant ?? p.variant).join(", ");
}

/** The product's name with its variant, as a shopper would say it: "Lavazza Crema (1 kg)". */
export function productName(p: Product, locale: Locale): string {
  const variant = variantLabel(p, locale);
  return variant ? `${familyName(p, locale)} (${variant})` : familyName(p, locale);
}

/** "two packs of Lavazza Crema" / "zwei Packungen Lavazza Crema"; pieces are counted directly: "two LEGO City Fire Stations". */
export function spokenCount(n: number, p: Product, locale: Locale, grammaticalCase?: "acc"): string {
  const [singular, plural] = p.unit[locale] ?? p.unit.en ?? ["piece", "pieces"];
  const isPiece = singular === "piece" || singular === "Stück";
  if (locale === "de") {
    if (isPiece) return `${n === 1 ? "ein" : spokenNumber(n, locale)} ${productName(p, locale)}`;
    const count = n === 1 ? germanOne(singular, grammaticalCase) : spokenNumber(n, locale);
    return `${count} ${n === 1 ? singular : plural} ${productName(p, locale)}`;
  }
  const count = spokenNumber(n, locale);
  if (isPiece) return n === 1 ? `${count} ${productName(p, locale)}` : `${count} ${productName({ ...p, name: pluralEnglish(p.name), i18n: undefined }, locale)}`;
  return `${count} ${n === 1 ? singular : plural} of ${productName(p, locale)}`;
}

/** The unit a product is counted in, several of it, as said: "kilos" (not "kg": a voice spells that), "packs", "Stück". */
export function unitsSaid(p: Product, locale: Locale): string {
  const plural = (p.unit[locale] ?? p.unit.en ?? ["piece", "pieces"])[1];
  const language = languageOf(locale);
  return (language && UNIT_WORDS[language][plural.toLowerCase()]?.[1]) || plural;
}

/** "two LEGO City Fire Stations": the last word of an English name takes the plural. */
function pluralEnglish(name: string): string {
  return name.replace(/([A-Za-z]+)$/, (w) =>
    /(s|x|z|ch|sh)$/i.test(w) ? `${w}es` : /[^aeiou]y$/i.test(w) ? `${w.slice(0, -1)}ies` : /(ar|ol|al)f$/i.test(w) ? `${w.slice(0, -1)}ves` : `${w}s`);
}

/** Grammatical gender of the counting units a shop uses; "eine Packung", "einen Beutel", "ein Glas". */
const GERMAN_UNIT_GENDER: Record<string, "f" | "m" | "n"> = {
  Packung: "f", Flasche: "f", Dose: "f", Tüte: "f", Schachtel: "f", Tafel: "f", Rolle: "f", Kiste: "f", Tube: "f", Box: "f", Kapsel: "f",
  Beutel: "m", Sack: "m", Karton: "m", Becher: "m", Laib: "m", Bund: "m", Kanister: "m", Eimer: "m", Satz: "m",
  Glas: "n", Kilo: "n", Netz: "n", Paket: "n", Stück: "n", Päckchen: "n", Brot: "n", Set: "n", Pack: "n",
};

/** "ein Sack" (nominative), "einen Sack" (accusative: "Du hast einen Sack ..."), "eine Packung". */
function germanOne(unit: string, grammaticalCase?: "acc"): string {
  const gender = GERMAN_UNIT_GENDER[unit] ?? (/(ung|e)$/.test(unit) ? "f" : "n");
  return gender === "f" ? "eine" : gender === "m" && grammaticalCase === "acc" ? "einen" : "ein";
}

/** "A, B or C" / "A, B oder C". */
export function spokenList(items: string[], locale: Locale, joiner: "and" | "or"): string {
  const word = locale === "de" ? (joiner === "and" ? "und" : "oder") : joiner;
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} ${word} ${items[items.length - 1]}`;
}

export function spokenDate(iso: string, locale: Locale): string {
  return new Date(iso).toLocaleDateString(locale === "de" ? "de-DE" : "en-GB", { day: "numeric", month: "long", timeZone: "UTC" });
}
