import seedrandom from "seedrandom";
import { tokenize } from "../nlu/text.js";
import { inWords } from "../voice/speech-format.js";
import type { JsgfExp, JsgfGrammar } from "./jsgf.js";
import { sampleSentences } from "./jsgf-lm.js";

export interface PromptOptions {
  /** Same seed, same grammar -> same prompts (default 1). */
  seed?: number;
  /** Sentences not to ask for (the benchmark keeps its test sentences out). */
  exclude?: (text: string) => boolean;
  /**
   * Requests written by people, by intent (the intent files' sentence tests: `exampleRequests`):
   * asked for first, since they read as people talk; the grammar's own sentences only fill up.
   * They are taken as written, courtesies ("please", "could you") included.
   */
  examples?: { intent: string; text: string }[];
  /** The examples' language, for saying their numbers in words (default "en"). */
  locale?: string;
}

/** How many sentences a person reads by default: about three minutes of reading. */
export const DEFAULT_PROMPTS = 30;

/** Short enough to read in one breath, long enough to carry several words' sounds. */
const MIN_WORDS = 3;
const MAX_WORDS = 12;
const LONG_EXAMPLE = 5;

/**
 * Sentences for a person to read aloud so the acoustic model can adapt to their voice: requests
 * (the words they will say, products included) without the lead-in and trailing skip words
 * ("erm", "hello talkcart") the grammar tolerates around one. First the `examples` people wrote,
 * taking each intent in turn; then, to fill up, sentences of the intent rules drawn at random.
 * (Drawn sentences alone read stiffly: "let us also take out that product from cart again".)
 * Sentences with a word whose pronunciation was generated (a German product name) are left out:
 * a reader says such a word their own way, and the model would learn the wrong sounds from it.
 */
export function enrollmentPrompts(grammar: Pick<JsgfGrammar, "rules" | "structure" | "added" | "accepts">, count: number, options: PromptOptions = {}): string[] {
  const seed = options.seed ?? 1;
  const prompts = new Set<string>();
  const take = (words: string[]) => {
    const text = words.join(" ");
    if (words.length < MIN_WORDS || words.length > MAX_WORDS || prompts.has(text) || options.exclude?.(text)) return;
    if (words.some((w) => grammar.added.has(w))) return;
    prompts.add(text);
  };
  // Examples as they are said ("2" is "two"), and only those the recognizer could hear.
  const byIntent = new Map<string, string[][]>();
  for (const { intent, text } of options.examples ?? []) {
    const locale = options.locale ?? "en";
    const words = tokenize(inWords(text, locale), locale);
    if (grammar.accepts(words)) byIntent.set(intent, [...(byIntent.get(intent) ?? []), words]);
  }
  const random = seedrandom(String(seed));
  // Longer ones first: more speech to adapt on in the same number of sentences.
  const long = (words: string[]) => words.length >= LONG_EXAMPLE;
  const queues = [...byIntent.values()].map((sentences) => [...shuffled(sentences.filter(long), random), ...shuffled(sentences.filter((w) => !long(w)), random)]);
  while (prompts.size < count && queues.some((q) => q.length)) {
    for (const q of queues) if (q.length && prompts.size < count) take(q.shift()!);
  }
  if (prompts.size === count) return [...prompts];
  const start = "enrollment_prompt";
  const anyIntent: JsgfExp = { kind: "alt", options: grammar.structure.intents.map((name) => ({ kind: "ref", name })) };
  const rules = new Map(grammar.rules).set(start, anyIntent);
  // Short intents ("yes") are rejected by length, so sample well past `count`.
  for (const words of sampleSentences(rules, start, count * 40, { seed })) {
    take(words);
    if (prompts.size === count) break;
  }
  return [...prompts];
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
