import type { TemplateNode } from "./template.js";

/** A slot's value: list outputs and numbers are canonical; catalog slots keep the spoken words. */
export type SlotValue = string | number;
export type Slots = Record<string, SlotValue>;

export type ListDef =
  | { kind: "values"; values: { node: TemplateNode; out: SlotValue }[] }
  | { kind: "range"; from: number; to: number }
  | { kind: "digits"; min: number; max: number }
  | { kind: "catalog" };

export interface SourceRef {
  file: string;
  line: number;
}

export interface Sentence {
  intent: string;
  text: string;
  node: TemplateNode;
  fixedSlots: Slots;
  source: SourceRef;
}

/** One locale's compiled intent files. */
export interface Grammar {
  locale: string;
  dir: string;
  intents: string[];
  sentences: Sentence[];
  lists: Record<string, ListDef>;
  rules: Record<string, TemplateNode>;
  numbers: { node: TemplateNode; value: number }[];
  /** One-word spellings of the digits 0-9 ("four", "vier"): PIN entry, and what a log must hide. */
  digitWords: Map<string, number>;
  skipWords: string[][];
  responses: Record<string, string[]>;
}

/**
 * Whether the numbers of a range are also said digit by digit ("one zero four two"): when it goes
 * beyond the locale's number words (order numbers). The matcher and the recognizer grammar agree
 * through this one rule.
 */
export function saidDigitByDigit(grammar: Pick<Grammar, "numbers">, range: { to: number }): boolean {
  return range.to > Math.max(-1, ...grammar.numbers.map((n) => n.value));
}
