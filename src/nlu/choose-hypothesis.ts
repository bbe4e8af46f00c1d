import type { IntentMatcher, Parse } from "./matcher.js";

export interface Reading {
  text: string;
  confidence: number;
}

/**
 * Picks, among a recognizer's n-best, the reading that parses best: a slightly less likely
 * transcript that is a whole command beats a likelier one that is not ("add two packs of coffee"
 * over "add to packs of coffee"). Recognizer confidence only breaks near-ties.
 */
export function chooseHypothesis<T extends Reading>(matcher: IntentMatcher, readings: T[]): { reading: T; parse: Parse | null } | null {
  let best: { reading: T; parse: Parse | null; rank: number } | null = null;
  for (const reading of readings.slice(0, 5)) {
    const parse = matcher.parse(reading.text).best;
    const rank = (parse?.score ?? 0) + 0.1 * reading.confidence;
    if (!best || rank > best.rank) best = { reading, parse, rank };
  }
  return best && { reading: best.reading, parse: best.parse };
}
