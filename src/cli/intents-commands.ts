import { readFileSync } from "node:fs";
import type { IntentMatcher } from "../nlu/matcher.js";
import { expansionCount } from "../nlu/vocabulary.js";
import { evaluate, parseLabelledTsv } from "../nlu/evaluate.js";

export function intentsCheck(matcher: IntentMatcher) {
  const g = matcher.grammar;
  return g.intents.map((intent) => {
    const sentences = g.sentences.filter((s) => s.intent === intent);
    return { intent, templates: sentences.length, expansions: sentences.reduce((n, s) => n + expansionCount(s.node, g), 0) };
  });
}

export function intentsEval(matcher: IntentMatcher, file: string) {
  return evaluate(matcher, parseLabelledTsv(readFileSync(file, "utf8"), file));
}
