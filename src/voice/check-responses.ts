import { PLACEHOLDER, placeholders, type Responses } from "./reply.js";

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
    const unknown = placeholders(own).filter((p) => !filled.has(p));
    if (unknown.length) problems.push(`response '${key}' uses {${unknown.join("}, {")}}, which the dialogue does not fill (it fills {${[...filled].join("}, {")}})`);
  }
  return problems;
}

/**
 * A response named after an intent is that intent's reply, filled from its slots (see
 * dialogue/intent-reply.ts): it may use only slots the intent's sentences fill, and a brace that is
 * no {slot} would be read out as it stands.
 */
export function intentResponseProblems(intent: string, text: string, slots: string[]): string[] {
  const problems: string[] = [];
  const unknown = [...new Set(placeholders(text))].filter((p) => !slots.includes(p));
  if (unknown.length) {
    problems.push(`response '${intent}' uses {${unknown.join("}, {")}}, which intent ${intent} has no slot for (${slots.length ? `its slots: {${slots.join("}, {")}}` : "it has none"})`);
  }
  if (/[{}]/.test(text.replace(PLACEHOLDER, ""))) problems.push(`response '${intent}' has a brace that is not a {slot}: "${text}"`);
  return problems;
}
