import { toCardinal as enCardinal } from "n2words/en-IE";
import { toCardinal as deCardinal } from "n2words/de-DE";
import type { Locale, Product } from "../shop/types.js";

/** Numbers, money, quantities and lists written the way they are spoken, per locale. */
const cardinal: Record<Locale, (n: number) => string> = { en: enCardinal, de: deCardinal };

export function spokenNumber(n: number, locale: Locale): string {
  return cardinal[locale](n);
}

/** 998 -> "nine euros ninety-eight" / "neun Euro achtundneunzig"; 50 -> "fifty cents". */
export function spokenMoney(cents: number, locale: Locale): string {
  const euros = Math.floor(cents / 100);
  const rest = cents % 100;
  const say = cardinal[locale];
  if (locale === "de") {
    if (euros === 0) return `${say(rest)} Cent`;
    const e = `${euros === 1 ? "ein" : say(euros)} Euro`;
    return rest ? `${e} ${say(rest)}` : e;
  }
  if (euros === 0) return `${say(rest)} ${rest === 1 ? "cent" : "cents"}`;
  const e = `${say(euros)} ${euros === 1 ? "euro" : "euros"}`;
  return rest ? `${e} ${say(rest)}` : e;
}

/** The product's name with its variant, as a shopper would say it: "Lavazza Crema, 1 kg". */
export function productName(p: Product): string {
  const variant = Object.values(p.variant).join(", ");
  return variant ? `${p.name} (${variant})` : p.name;
}

/** "two packs of Lavazza Crema" / "zwei Packungen Lavazza Crema"; one piece is just "one LEGO ...". */
export function spokenCount(n: number, p: Product, locale: Locale): string {
  const [singular, plural] = p.unit[locale] ?? p.unit.en ?? ["piece", "pieces"];
  const isPiece = singular === "piece" || singular === "Stück";
  const count = locale === "de" && n === 1 ? (isPiece ? "ein" : germanOne(singular)) : spokenNumber(n, locale);
  if (isPiece) {
    if (locale === "de") return `${n === 1 ? "ein" : count} ${productName(p)}`;
    return n === 1 ? `${count} ${productName(p)}` : `${count} ${productName({ ...p, name: pluralEnglish(p.name) })}`;
  }
  const unit = n === 1 ? singular : plural;
  return locale === "de" ? `${count} ${unit} ${productName(p)}` : `${count} ${unit} of ${productName(p)}`;
}

/** "two LEGO City Fire Stations": the last word of an English name takes the plural. */
function pluralEnglish(name: string): string {
  return name.replace(/([A-Za-z]+)$/, (w) =>
    /(s|x|z|ch|sh)$/i.test(w) ? `${w}es` : /[^aeiou]y$/i.test(w) ? `${w.slice(0, -1)}ies` : /(ar|ol|al)f$/i.test(w) ? `${w.slice(0, -1)}ves` : `${w}s`);
}

function germanOne(unit: string): string {
  // Feminine units (Packung, Flasche, Dose, Tüte, Schachtel) take "eine".
  return /(ung|e|el)$/.test(unit) ? "eine" : "ein";
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
