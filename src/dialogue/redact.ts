import type { Grammar } from "../nlu/grammar.js";
import { tokenize } from "../nlu/text.js";

/**
 * Hides PIN digits before a turn is logged or traced. In a PIN turn every digit goes; in any other
 * turn, every run of three or more spoken or written digits (a PIN said at the wrong moment),
 * except a run that spells one of `numbers`: what the parse read as something else ("where is
 * order one zero four two" -> order 1042, shown in the slots anyway).
 */
export function redactPin(text: string, grammar: Grammar, pinTurn: boolean, numbers: readonly string[] = []): string {
  const parts = text.split(/(\s+)/);
  const written = (part: string) => part.replace(/[^\p{L}\p{N}]/gu, "");
  const spoken = (part: string) => grammar.digitWords.get(tokenize(part, grammar.locale)[0] ?? "\u0000");
  const isDigit = (part: string) => /^\d+$/.test(written(part)) || spoken(part) !== undefined;
  const digitsOf = (run: string[]) => run.filter(isDigit).map((p) => (/^\d+$/.test(written(p)) ? written(p) : String(spoken(p)))).join("");
  const hide = parts.map(() => false);
  for (let i = 0; i < parts.length; ) {
    if (!isDigit(parts[i]) || /^\s+$/.test(parts[i])) { i++; continue; }
    let j = i;
    let digits = 0;
    while (j < parts.length && (isDigit(parts[j]) || /^\s+$/.test(parts[j]))) {
      if (isDigit(parts[j])) digits += parts[j].replace(/\D/g, "").length || 1;
      j++;
    }
    const named = !pinTurn && numbers.some((n) => Number(n) === Number(digitsOf(parts.slice(i, j))));
    if (pinTurn || (digits >= 3 && !named)) for (let k = i; k < j; k++) hide[k] = isDigit(parts[k]);
    i = j;
  }
  return parts.map((p, i) => (hide[i] ? p.replace(/[\p{L}\p{N}]+/gu, (m) => "*".repeat(Math.min(m.length, 1))) : p)).join("");
}
