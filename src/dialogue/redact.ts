import type { Grammar } from "../nlu/grammar.js";
import { tokenize } from "../nlu/text.js";

/**
 * Hides PIN digits before a turn is logged or traced. In a PIN turn every digit goes; in any other
 * turn, every run of three or more spoken or written digits (a PIN said at the wrong moment).
 */
export function redactPin(text: string, grammar: Grammar, pinTurn: boolean): string {
  const parts = text.split(/(\s+)/);
  const isDigit = (part: string) => /^\d+$/.test(part.replace(/[^\p{L}\p{N}]/gu, "")) || grammar.digitWords.has(tokenize(part, grammar.locale)[0] ?? "\u0000");
  const hide = parts.map(() => false);
  for (let i = 0; i < parts.length; ) {
    if (!isDigit(parts[i]) || /^\s+$/.test(parts[i])) { i++; continue; }
    let j = i;
    let digits = 0;
    while (j < parts.length && (isDigit(parts[j]) || /^\s+$/.test(parts[j]))) {
      if (isDigit(parts[j])) digits += parts[j].replace(/\D/g, "").length || 1;
      j++;
    }
    if (pinTurn || digits >= 3) for (let k = i; k < j; k++) hide[k] = isDigit(parts[k]);
    i = j;
  }
  return parts.map((p, i) => (hide[i] ? p.replace(/[\p{L}\p{N}]+/gu, (m) => "*".repeat(Math.min(m.length, 1))) : p)).join("");
}
