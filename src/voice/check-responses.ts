import type { Responses } from "./reply.js";

const placeholders = (text: string) => new Set([...text.matchAll(/\{(\w+)(?::\w+)?\}/g)].map((m) => m[1]));

/** Reasons may name the category in the singular or the plural, and the brand, whichever the language needs. */
const REASON_PLACEHOLDERS = ["category", "categories", "brand"];

/**
 * Compares a locale's responses with the reference set (talkcart's English responses, which the
 * dialogue is written against): every key must be there, and use only placeholders the dialogue fills.
 */
export function responseProblems(responses: Responses, reference: Responses): string[] {
  const problems: string[] = [];
  for (const [key, [text]] of Object.entries(reference)) {
    const own = responses[key]?.[0];
    if (own === undefined) {
      problems.push(`missing response '${key}' (${text})`);
      continue;
    }
    const filled = new Set([...placeholders(text), ...(key.startsWith("reason_") ? REASON_PLACEHOLDERS : [])]);
    const unknown = [...placeholders(own)].filter((p) => !filled.has(p));
    if (unknown.length) problems.push(`response '${key}' uses {${unknown.join("}, {")}}, which the dialogue does not fill (it fills {${[...filled].join("}, {")}})`);
  }
  return problems;
}
