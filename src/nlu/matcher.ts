import type { TemplateNode } from "./template.js";
import { saidDigitByDigit, type Grammar, type ListDef, type Slots, type SlotValue, type Sentence } from "./grammar.js";
import { tokenize } from "./text.js";

/** How well some words name a thing the shop sells: 0 (nothing) to 1 (an exact name). */
export interface CatalogScorer {
  score(phrase: string): number;
}

export interface Parse {
  intent: string;
  slots: Slots;
  /** Share of the input explained by the template, catalog words weighted by how well they matched. */
  score: number;
  sentence: Pick<Sentence, "text" | "source">;
  /** The matched tokens (skip words removed) and where each catalog slot sits in them. */
  tokens: string[];
  spans: Record<string, [start: number, end: number]>;
  /** How many words catalog slots took: on equal scores, the reading that needed fewer wins. */
  wildTokens: number;
}

export interface ParseResult {
  text: string;
  tokens: string[];
  best: Parse | null;
  alternatives: Parse[];
}

interface State {
  pos: number;
  slots: Slots;
  matched: number;
  wild: [number, number, string][];
}

interface Span {
  end: number;
  value: SlotValue;
}

const NO_CATALOG: CatalogScorer = { score: () => 0 };

/** A small backtracking matcher: every template is tried against the tokens, and all complete matches ranked. */
export class IntentMatcher {
  constructor(readonly grammar: Grammar, private readonly catalog: CatalogScorer = NO_CATALOG, readonly minScore = 0.5) {}

  parse(text: string): ParseResult {
    const tokens = this.withoutSkipWords(tokenize(text, this.grammar.locale));
    if (tokens.length === 0) return { text, tokens, best: null, alternatives: [] };
    const run = new MatchRun(this.grammar, tokens, this.grammar.digitWords);
    const catalogScores = new Map<string, number>();
    const catalogScore = (phrase: string) => {
      if (!catalogScores.has(phrase)) catalogScores.set(phrase, this.catalog.score(phrase));
      return catalogScores.get(phrase)!;
    };

    const parses: Parse[] = [];
    for (const sentence of this.grammar.sentences) {
      let best: Parse | null = null;
      let bestWild = Infinity;
      let bestSlots = 0;
      for (const state of run.match(sentence.node, [{ pos: 0, slots: {}, matched: 0, wild: [] }])) {
        if (state.pos !== tokens.length) continue;
        let explained = state.matched;
        let wildTokens = 0;
        for (const [start, end] of state.wild) {
          wildTokens += end - start;
          explained += (end - start) * catalogScore(tokens.slice(start, end).join(" "));
        }
        const score = explained / tokens.length;
        const slotCount = Object.keys(state.slots).length;
        // Ties go to the reading that explains more with slots: "a coffee" is quantity 1, not an article.
        if (!best || score > best.score || (score === best.score && (wildTokens < bestWild || (wildTokens === bestWild && slotCount > bestSlots)))) {
          const spans = Object.fromEntries(state.wild.map(([start, end, slot]) => [slot, [start, end] as [number, number]]));
          best = { intent: sentence.intent, slots: { ...state.slots, ...sentence.fixedSlots }, score, sentence, tokens, spans, wildTokens };
          bestWild = wildTokens;
          bestSlots = slotCount;
        }
      }
      if (best) parses.push(best);
    }
    parses.sort((a, b) => b.score - a.score || a.wildTokens - b.wildTokens || Object.keys(b.slots).length - Object.keys(a.slots).length);
    const distinct: Parse[] = [];
    for (const p of parses) {
      if (!distinct.some((d) => d.intent === p.intent && sameSlots(d.slots, p.slots))) distinct.push(p);
    }
    const accepted = distinct.filter((p) => p.score >= this.minScore);
    return { text, tokens, best: accepted[0] ?? null, alternatives: distinct.slice(0, 5) };
  }

  private withoutSkipWords(tokens: string[]): string[] {
    const skip = this.grammar.skipWords.filter((s) => s.length > 0);
    const out: string[] = [];
    for (let i = 0; i < tokens.length; ) {
      const hit = skip.find((s) => s.every((w, j) => tokens[i + j] === w));
      if (hit) i += hit.length;
      else out.push(tokens[i++]);
    }
    return out;
  }
}

function sameSlots(a: Slots, b: Slots): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Matching state for one input: slot spans are memoised per position, as they do not depend on the path. */
class MatchRun {
  private readonly spanCache = new Map<string, Span[]>();

  constructor(private readonly grammar: Grammar, private readonly tokens: string[], private readonly digitWords: Map<string, number>) {}

  match(node: TemplateNode, states: State[]): State[] {
    if (states.length === 0) return states;
    switch (node.kind) {
      case "word":
        return states.filter((s) => this.tokens[s.pos] === node.word).map((s) => ({ ...s, pos: s.pos + 1, matched: s.matched + 1 }));
      case "seq":
        return node.items.reduce((acc, item) => dedupe(this.match(item, acc)), states);
      case "alt":
        return dedupe(node.options.flatMap((o) => this.match(o, states)));
      case "rule":
        return this.match(this.grammar.rules[node.name], states);
      case "slot":
        return this.matchSlot(node.list, node.slot, states);
    }
  }

  private matchSlot(listName: string, slot: string, states: State[]): State[] {
    const list = this.grammar.lists[listName];
    const out: State[] = [];
    for (const s of states) {
      if (list.kind === "catalog") {
        // A product never starts with a number: "add 100 bananas" is an out-of-range quantity, not a product called "100 bananas".
        if (/^\d+$/.test(this.tokens[s.pos] ?? "")) continue;
        for (let end = s.pos + 1; end <= this.tokens.length; end++) {
          out.push({ ...s, pos: end, slots: { ...s.slots, [slot]: this.tokens.slice(s.pos, end).join(" ") }, wild: [...s.wild, [s.pos, end, slot]] });
        }
        continue;
      }
      for (const span of this.spans(listName, list, s.pos)) {
        out.push({ ...s, pos: span.end, slots: { ...s.slots, [slot]: span.value }, matched: s.matched + span.end - s.pos });
      }
    }
    return out;
  }

  private spans(name: string, list: Exclude<ListDef, { kind: "catalog" }>, pos: number): Span[] {
    const key = `${name}@${pos}`;
    let spans = this.spanCache.get(key);
    if (!spans) {
      spans = list.kind === "values" ? this.valueSpans(list, pos)
        : list.kind === "range" ? this.rangeSpans(list, pos)
        : this.digitSpans(pos, list.min, list.max);
      this.spanCache.set(key, spans);
    }
    return spans;
  }

  private ends(node: TemplateNode, pos: number): number[] {
    return [...new Set(this.match(node, [{ pos, slots: {}, matched: 0, wild: [] }]).map((s) => s.pos))].filter((e) => e > pos);
  }

  private valueSpans(list: Extract<ListDef, { kind: "values" }>, pos: number): Span[] {
    return list.values.flatMap((v) => this.ends(v.node, pos).map((end) => ({ end, value: v.out })));
  }

  /**
   * A number of the range: written, in words, or, where the range goes beyond the number words
   * (order numbers), digit by digit ("one zero four two"; leading zeros allowed, "zero seven" is 7).
   */
  private rangeSpans(list: Extract<ListDef, { kind: "range" }>, pos: number): Span[] {
    const spans = this.numberSpans(pos);
    if (saidDigitByDigit(this.grammar, list)) {
      for (const s of this.digitSpans(pos, 2, String(list.to).length)) spans.push({ end: s.end, value: Number(s.value) });
    }
    return spans.filter((s) => (s.value as number) >= list.from && (s.value as number) <= list.to);
  }

  private numberSpans(pos: number): Span[] {
    const token = this.tokens[pos];
    const spans: Span[] = /^\d+$/.test(token ?? "") ? [{ end: pos + 1, value: Number(token) }] : [];
    for (const { node, value } of this.grammar.numbers) {
      for (const end of this.ends(node, pos)) spans.push({ end, value });
    }
    return spans;
  }

  /** Spoken digits, one per word ("four three two one") or as written numbers ("4321", "43 21"). */
  private digitSpans(pos: number, min: number, max: number): Span[] {
    const spans: Span[] = [];
    let digits = "";
    for (let i = pos; i < this.tokens.length; i++) {
      const t = this.tokens[i];
      const d = /^\d+$/.test(t) ? t : this.digitWords.has(t) ? String(this.digitWords.get(t)) : null;
      if (d === null) break;
      digits += d;
      if (digits.length > max) break;
      if (digits.length >= min) spans.push({ end: i + 1, value: digits });
    }
    return spans;
  }
}

function dedupe(states: State[]): State[] {
  if (states.length < 2) return states;
  const seen = new Map<string, State>();
  for (const s of states) {
    const key = `${s.pos}|${JSON.stringify(s.slots)}|${s.wild.length}`;
    const prev = seen.get(key);
    if (!prev || s.matched > prev.matched) seen.set(key, s);
  }
  return [...seen.values()];
}
