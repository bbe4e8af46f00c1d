import type { Locale, Product, RecommendReason } from "../shop/types.js";
import { familyName, productName, spokenCount, spokenDate, spokenList, spokenMoney, spokenNumber, spokenReference, variantLabel } from "./speech-format.js";

/** What the assistant says, before it is put into words: a response key and typed values. */
export type ReplyValue =
  | string
  | number
  | { reference: number }
  | { money: number }
  | { count: number; product: Product }
  | { lines: { quantity: number; product: Product }[] }
  | { product: Product }
  | { family: Product }
  | { variants: Product[] }
  | { counted: number; key: string }
  | { products: Product[]; joiner: "and" | "or" }
  | { phrases: string[]; joiner: "and" | "or" }
  | { reasons: RecommendReason[]; product: Product }
  | { date: string };

export interface Reply {
  key: string;
  vars?: Record<string, ReplyValue>;
}

export type Responses = Record<string, string[]>;

export class MissingResponseError extends Error {}

/** {name} or {name:acc}: the case marker lets a language inflect counts ("Du hast einen Sack ..."). */
export const PLACEHOLDER = /\{(\w+)(?::(acc))?\}/g;

/** The names a response fills in, in order. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Puts a reply into words with the locale's responses.yaml. */
export function renderReply(reply: Reply, responses: Responses, locale: Locale, categoryName: (id: string, plural: boolean) => string): string {
  const text = pick(responses, reply.key, locale);
  const spoken = text.replace(PLACEHOLDER, (_, name: string, grammaticalCase?: "acc") => {
    const value = reply.vars?.[name];
    if (value === undefined) throw new MissingResponseError(`response '${reply.key}' (${locale}) uses {${name}}, which this reply does not provide`);
    return speak(value, grammaticalCase);
  });
  return capitalise(spoken.replace(/\s+/g, " ").replace(/\s+([,.?!])/g, "$1").trim());

  function speak(v: ReplyValue, grammaticalCase?: "acc"): string {
    if (typeof v === "string") return v;
    if (typeof v === "number") return spokenNumber(v, locale);
    if ("reference" in v) return spokenReference(v.reference, locale);
    if ("money" in v) return spokenMoney(v.money, locale);
    if ("count" in v) return spokenCount(v.count, v.product, locale, grammaticalCase);
    if ("lines" in v) {
      // Short lists for the ear: four lines at most, then how many more.
      const shown = v.lines.slice(0, 4).map((l) => spokenCount(l.quantity, l.product, locale, grammaticalCase));
      const more = v.lines.length - shown.length;
      if (more > 0) {
        // "ein weiterer Artikel" / "einen weiteren Artikel" (accusative, where the language has a key for it).
        const key = `more_items_${more === 1 ? "one" : "many"}`;
        const cased = grammaticalCase && responses[`${key}_${grammaticalCase}`] ? `${key}_${grammaticalCase}` : key;
        shown.push(pick(responses, cased, locale).replace("{n}", spokenNumber(more, locale)));
      }
      return spokenList(shown, locale, "and");
    }
    if ("products" in v) return spokenList(v.products.map((p) => productName(p, locale)), locale, v.joiner);
    if ("family" in v) return familyName(v.family, locale);
    if ("variants" in v) return spokenList(v.variants.map((p) => variantLabel(p, locale)), locale, "or");
    // Counted nouns come from responses.yaml: KEY_one ("one item") and KEY_many ("{n} items").
    if ("counted" in v) return pick(responses, `${v.key}_${v.counted === 1 ? "one" : "many"}`, locale).replace("{n}", spokenNumber(v.counted, locale));
    if ("phrases" in v) return spokenList(v.phrases, locale, v.joiner);
    if ("reasons" in v) {
      return spokenList(v.reasons.map((r) => pick(responses, `reason_${r}`, locale)
        .replace("{category}", categoryName(v.product.category, false)).replace("{categories}", categoryName(v.product.category, true))
        .replace("{brand}", v.product.brand)), locale, "and");
    }
    if ("product" in v) return productName(v.product, locale);
    return spokenDate(v.date, locale);
  }
}

function pick(responses: Responses, key: string, locale: Locale): string {
  const options = responses[key];
  if (!options || options.length === 0) throw new MissingResponseError(`intents/${locale}/responses.yaml has no response '${key}'`);
  return options[0];
}

function capitalise(s: string): string {
  return s.charAt(0).toLocaleUpperCase() + s.slice(1);
}
