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
  // Per part: its digits ("4321" written, "4" for "four"), "" for the spaces between, null for any other word.
  const digits = parts.map((p) => {
    if (/^\s*$/.test(p)) return "";
    const written = p.replace(/[^\p{L}\p{N}]/gu, "");
    if (/^\d+$/.test(written)) return written;
    const spoken = grammar.digitWords.get(tokenize(p, grammar.locale)[0] ?? "\u0000");
    return spoken === undefined ? null : String(spoken);
  });
  const hide = parts.map(() => false);
  for (let i = 0; i < parts.length; ) {
    if (!digits[i]) { i++; continue; }
    let j = i;
    let run = "";
    while (j < parts.length && digits[j] !== null) run += digits[j++];
    const named = !pinTurn && numbers.some((n) => Number(n) === Number(run));
    if (pinTurn || (run.length >= 3 && !named)) for (let k = i; k < j; k++) hide[k] = !!digits[k];
    i = j;
  }
  return parts.map((p, i) => (hide[i] ? p.replace(/[\p{L}\p{N}]+/gu, (m) => "*".repeat(Math.min(m.length, 1))) : p)).join("");
}

/**
 * Another reading of a text that had digits hidden: only the words the redacted text shows are
 * kept, every other word is a "*" (a homophone such as "for three to one" must not spell the PIN).
 */
export function redactLike(text: string, redacted: string): string {
  const shown = new Set(redacted.split(/\s+/).filter((w) => w && w !== "*"));
  return text.split(/(\s+)/).map((w) => (/^\s*$/.test(w) || shown.has(w) ? w : "*")).join("");
}
