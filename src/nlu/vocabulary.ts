import type { TemplateNode } from "./template.js";
import type { Grammar } from "./grammar.js";

/** How many sentences a template expands to, each slot counted once (as `intents check` reports). */
export function expansionCount(node: TemplateNode, grammar: Grammar): number {
  switch (node.kind) {
    case "word":
    case "slot":
      return 1;
    case "seq":
      return node.items.reduce((n, item) => n * expansionCount(item, grammar), 1);
    case "alt":
      return node.options.reduce((n, o) => n + expansionCount(o, grammar), 0);
    case "rule":
      return expansionCount(grammar.rules[node.name], grammar);
  }
}

/** Every expansion of a small template (list values, number words), as word sequences. */
export function expand(node: TemplateNode, grammar: Grammar, limit = 10_000): string[][] {
  switch (node.kind) {
    case "word":
      return [[node.word]];
    case "slot":
      return [[`{${node.slot}}`]];
    case "rule":
      return expand(grammar.rules[node.name], grammar, limit);
    case "alt":
      return node.options.flatMap((o) => expand(o, grammar, limit)).slice(0, limit);
    case "seq":
      return node.items.reduce<string[][]>(
        (acc, item) => acc.flatMap((a) => expand(item, grammar, limit).map((b) => [...a, ...b])).slice(0, limit),
        [[]],
      );
  }
}

function collectWords(node: TemplateNode, grammar: Grammar, into: Set<string>, seenRules = new Set<string>()) {
  if (node.kind === "word") into.add(node.word);
  else if (node.kind === "seq") node.items.forEach((n) => collectWords(n, grammar, into, seenRules));
  else if (node.kind === "alt") node.options.forEach((n) => collectWords(n, grammar, into, seenRules));
  else if (node.kind === "rule" && !seenRules.has(node.name)) {
    seenRules.add(node.name);
    collectWords(grammar.rules[node.name], grammar, into, seenRules);
  }
}

/**
 * Every word the grammar can produce, list values and number words included, plus the catalog's words.
 * This is what a recognizer's grammar or phrase list is built from.
 */
export function grammarWords(grammar: Grammar, catalogPhrases: string[] = []): string[] {
  const words = new Set<string>();
  for (const s of grammar.sentences) collectWords(s.node, grammar, words);
  for (const list of Object.values(grammar.lists)) {
    if (list.kind === "values") list.values.forEach((v) => collectWords(v.node, grammar, words));
  }
  for (const n of grammar.numbers) collectWords(n.node, grammar, words);
  for (const p of catalogPhrases) p.split(/\s+/).filter(Boolean).forEach((w) => words.add(w));
  return [...words].sort();
}

/** Whole phrases worth biasing a recognizer towards: list values, number words and catalog names. */
export function grammarPhrases(grammar: Grammar, catalogPhrases: string[] = []): string[] {
  const phrases = new Set<string>(catalogPhrases);
  for (const list of Object.values(grammar.lists)) {
    if (list.kind !== "values") continue;
    for (const v of list.values) for (const e of expand(v.node, grammar, 50)) if (e.length) phrases.add(e.join(" "));
  }
  for (const n of grammar.numbers) for (const e of expand(n.node, grammar, 20)) if (e.length) phrases.add(e.join(" "));
  return [...phrases];
}
