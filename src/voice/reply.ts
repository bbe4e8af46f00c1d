import type { Locale, Product, RecommendReason } from "../shop/types.js";
import { productName, spokenCount, spokenDate, spokenList, spokenMoney, spokenNumber } from "./speech-format.js";

/** What the assistant says, before it is put into words: a response key and typed values. */
export type ReplyValue =
  | string
  | number
  | { money: number }
  | { count: number; product: Product }
  | { lines: { quantity: number; product: Product }[] }
  | { product: Product }
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

/** Puts a reply into words with the locale's responses.yaml. */
export function renderReply(reply: Reply, responses: Responses, locale: Locale, categoryName: (id: string, plural: boolean) => string): string {
  const text = pick(responses, reply.key, locale);
  const spoken = text.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = reply.vars?.[name];
    if (value === undefined) throw new MissingResponseError(`response '${reply.key}' (${locale}) uses {${name}}, which this reply does not provide`);
    return speak(value);
  });
  return capitalise(spoken.replace(/\s+/g, " ").replace(/\s+([,.?!])/g, "$1").trim());

  function speak(v: ReplyValue): string {
    if (typeof v === "string") return v;
    if (typeof v === "number") return spokenNumber(v, locale);
    if ("money" in v) return spokenMoney(v.money, locale);
    if ("count" in v) return spokenCount(v.count, v.product, locale);
    if ("lines" in v) {
      // Short lists for the ear: four lines at most, then how many more.
      const shown = v.lines.slice(0, 4).map((l) => spokenCount(l.quantity, l.product, locale));
      const more = v.lines.length - shown.length;
      if (more > 0) shown.push(pick(responses, "more_items", locale).replace("{n}", spokenNumber(more, locale)));
      return spokenList(shown, locale, "and");
    }
    if ("products" in v) return spokenList(v.products.map(productName), locale, v.joiner);
    if ("phrases" in v) return spokenList(v.phrases, locale, v.joiner);
    if ("reasons" in v) {
      return spokenList(v.reasons.map((r) => pick(responses, `reason_${r}`, locale)
        .replace("{category}", categoryName(v.product.category, false)).replace("{categories}", categoryName(v.product.category, true))
        .replace("{brand}", v.product.brand)), locale, "and");
    }
    if ("product" in v) return productName(v.product);
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
