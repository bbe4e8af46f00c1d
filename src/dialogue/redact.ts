import type { Grammar } from "../nlu/grammar.js";
import { tokenize } from "../nlu/text.js";

/** Replaces every digit and spoken digit word with "*": PIN digits never reach a log or trace. */
export function redactPin(text: string, grammar: Grammar): string {
  const digitWords = new Set<string>();
  for (const { node, value } of grammar.numbers) {
    if (value < 0 || value > 9) continue;
    const words = node.kind === "word" ? [node.word] : node.kind === "alt" ? node.options.flatMap((o) => (o.kind === "word" ? [o.word] : [])) : [];
    words.forEach((w) => digitWords.add(w));
  }
  return text
    .split(/(\s+)/)
    .map((part) => (digitWords.has(tokenize(part, grammar.locale)[0] ?? "\u0000") ? "*" : part.replace(/\d/g, "*")))
    .join("");
}
