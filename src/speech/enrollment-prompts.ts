import type { JsgfExp, JsgfGrammar } from "./jsgf.js";
import { sampleSentences } from "./jsgf-lm.js";

export interface PromptOptions {
  /** Same seed, same grammar -> same prompts (default 1). */
  seed?: number;
  /** Sentences not to ask for (the benchmark keeps its test sentences out). */
  exclude?: (text: string) => boolean;
}

/** How many sentences a person reads by default: about three minutes of reading. */
export const DEFAULT_PROMPTS = 30;

/** Short enough to read in one breath, long enough to carry several words' sounds. */
const MIN_WORDS = 3;
const MAX_WORDS = 12;

/**
 * Sentences for a person to read aloud so the acoustic model can adapt to their voice: requests of
 * the intent rules themselves (the words they will say, products included), each intent about
 * equally often, without the lead-in and trailing skip words ("erm", "hello talkcart") the grammar
 * tolerates around a request. Sentences with a word whose pronunciation was generated (a German
 * product name) are left out: a reader says such a word their own way, and the model would learn
 * the wrong sounds from it.
 */
export function enrollmentPrompts(grammar: Pick<JsgfGrammar, "rules" | "structure" | "added">, count: number, options: PromptOptions = {}): string[] {
  const start = "enrollment_prompt";
  const anyIntent: JsgfExp = { kind: "alt", options: grammar.structure.intents.map((name) => ({ kind: "ref", name })) };
  const rules = new Map(grammar.rules).set(start, anyIntent);
  const prompts = new Set<string>();
  // Short intents ("yes") are rejected by length, so sample well past `count`.
  for (const words of sampleSentences(rules, start, count * 40, { seed: options.seed ?? 1 })) {
    const text = words.join(" ");
    if (words.length < MIN_WORDS || words.length > MAX_WORDS || prompts.has(text) || options.exclude?.(text)) continue;
    if (words.some((w) => grammar.added.has(w))) continue;
    prompts.add(text);
    if (prompts.size === count) break;
  }
  return [...prompts];
}
