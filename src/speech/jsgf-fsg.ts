import type { JsgfExp } from "./jsgf.js";

/**
 * The JSGF rules compiled to a minimal deterministic word automaton, written as a sphinxbase FSG.
 *
 * Why: sphinxbase's JSGF compiler inlines every rule reference, so a grammar whose product rule
 * (~1000 words) is referenced 65 times becomes a ~100k-word graph full of null transitions, and
 * loading it takes minutes and hundreds of MB. Determinising and minimising the same language
 * shares every common prefix and suffix; pocketsphinx then loads and searches a graph with one arc
 * per distinct next word. The language is exactly the JSGF's.
 */
export interface WordAutomaton {
  start: number;
  /** Per state: word -> next state. */
  next: Map<string, number>[];
  final: boolean[];
}

interface Nfa {
  arcs: { to: number; word: string }[][];
  eps: number[][];
}

function buildNfa(rules: Map<string, JsgfExp>, start: string, classes: Set<string> = new Set()): { nfa: Nfa; from: number; to: number } {
  const nfa: Nfa = { arcs: [], eps: [] };
  const state = () => {
    nfa.arcs.push([]);
    nfa.eps.push([]);
    return nfa.arcs.length - 1;
  };
  const build = (e: JsgfExp, from: number): number => {
    switch (e.kind) {
      case "word": {
        const to = state();
        nfa.arcs[from].push({ to, word: e.word });
        return to;
      }
      case "seq":
        return e.items.reduce((at, item) => build(item, at), from);
      case "alt": {
        const end = state();
        for (const o of e.options) nfa.eps[build(o, from)].push(end);
        return end;
      }
      case "opt": {
        const end = build(e.item, from);
        nfa.eps[from].push(end);
        return end;
      }
      case "ref": {
        if (classes.has(e.name)) {
          const to = state();
          nfa.arcs[from].push({ to, word: `<${e.name}>` });
          return to;
        }
        const body = rules.get(e.name);
        if (!body) throw new Error(`JSGF: unknown rule <${e.name}>`);
        return build(body, from);
      }
    }
  };
  const from = state();
  const to = build(rules.get(start)!, from);
  return { nfa, from, to };
}

/** Subset construction over an NFA with epsilon moves. */
function determinize(nfa: Nfa, starts: number[], finals: Set<number>): WordAutomaton {
  const closure = (set: number[]): number[] => {
    const seen = new Set(set);
    const stack = [...set];
    while (stack.length) {
      const s = stack.pop()!;
      for (const t of nfa.eps[s]) if (!seen.has(t)) { seen.add(t); stack.push(t); }
    }
    return [...seen].sort((a, b) => a - b);
  };
  const ids = new Map<string, number>();
  const sets: number[][] = [];
  const dfa: WordAutomaton = { start: 0, next: [], final: [] };
  const add = (set: number[]): number => {
    const key = set.join(",");
    let id = ids.get(key);
    if (id === undefined) {
      id = sets.length;
      ids.set(key, id);
      sets.push(set);
      dfa.next.push(new Map());
      dfa.final.push(set.some((s) => finals.has(s)));
    }
    return id;
  };
  add(closure(starts));
  for (let i = 0; i < sets.length; i++) {
    const byWord = new Map<string, number[]>();
    for (const s of sets[i]) {
      for (const { to, word } of nfa.arcs[s]) {
        let targets = byWord.get(word);
        if (!targets) byWord.set(word, (targets = []));
        targets.push(to);
      }
    }
    for (const [word, targets] of byWord) dfa.next[i].set(word, add(closure(targets)));
  }
  return dfa;
}

function reverse(a: WordAutomaton): { nfa: Nfa; starts: number[]; finals: Set<number> } {
  const nfa: Nfa = { arcs: a.next.map(() => []), eps: a.next.map(() => []) };
  a.next.forEach((m, from) => m.forEach((to, word) => nfa.arcs[to].push({ to: from, word })));
  const starts = a.final.flatMap((f, i) => (f ? [i] : []));
  return { nfa, starts, finals: new Set([a.start]) };
}

/** The minimal DFA of a rule's language (Brzozowski: determinise the reverse twice). */
export function compileAutomaton(rules: Map<string, JsgfExp>, start = "command", classes: Set<string> = new Set()): WordAutomaton {
  const { nfa, from, to } = buildNfa(rules, start, classes);
  let dfa = determinize(nfa, [from], new Set([to]));
  for (let i = 0; i < 2; i++) {
    const r = reverse(dfa);
    dfa = determinize(r.nfa, r.starts, r.finals);
  }
  return dfa;
}

export function automatonSize(a: WordAutomaton): { states: number; arcs: number } {
  return { states: a.next.length, arcs: a.next.reduce((n, m) => n + m.size, 0) };
}

export interface FsgOptions {
  /**
   * Rules compiled once and spliced in wherever they are used, instead of inside every context
   * (default: the catalog and number lists: rules named l_*, n_*, d_*, and digit).
   */
  classes?: (name: string) => boolean;
  /**
   * A class gets one copy per place it leads back to (exact language) while that costs at most
   * this many word arcs; beyond it, one shared copy whose exits lead to every such place (a little
   * more than the language: what precedes and what follows the slot may come from different
   * sentences, which `JsgfGrammar.accepts` then tells apart). Default 6000.
   */
  maxCopyArcs?: number;
  name?: string;
}

export interface Fsg {
  text: string;
  states: number;
  /** Word transitions. */
  arcs: number;
  /** Classes spliced in as one shared copy (the FSG accepts a little more than the grammar). */
  shared: string[];
}

const DEFAULT_CLASS = (name: string) => /^(l_|n_|d_|digit$)/.test(name);

/** The grammar as a sphinxbase FSG: the minimal automaton with class rules spliced in. */
export function compileFsg(rules: Map<string, JsgfExp>, start = "command", options: FsgOptions = {}): Fsg {
  const isClass = options.classes ?? DEFAULT_CLASS;
  const classes = new Set([...rules.keys()].filter((n) => n !== start && isClass(n)));
  const main = compileAutomaton(rules, start, classes);
  const budget = options.maxCopyArcs ?? 6000;

  const lines: string[] = [];
  let states = main.next.length + 1;
  const final = main.next.length;
  let arcs = 0;
  const word = (from: number, to: number, w: string) => { lines.push(`TRANSITION ${from} ${to} 1.0 ${w}`); arcs++; };
  const nul = (from: number, to: number) => lines.push(`TRANSITION ${from} ${to} 1.0`);

  const uses = new Map<string, Map<number, number[]>>(); // class -> target -> sources
  main.next.forEach((m, from) => {
    for (const [w, to] of m) {
      const cls = w.startsWith("<") ? w.slice(1, -1) : null;
      if (cls === null) { word(from, to, w); continue; }
      let byTarget = uses.get(cls);
      if (!byTarget) uses.set(cls, (byTarget = new Map()));
      byTarget.set(to, [...(byTarget.get(to) ?? []), from]);
    }
    if (main.final[from]) nul(from, final);
  });

  const shared: string[] = [];
  for (const [cls, byTarget] of uses) {
    const sub = compileAutomaton(rules, cls);
    const subArcs = automatonSize(sub).arcs;
    const groups = byTarget.size * subArcs <= budget ? [...byTarget.keys()].map((t) => [t]) : [[...byTarget.keys()]];
    if (groups.length === 1 && byTarget.size > 1) shared.push(cls);
    for (const targets of groups) {
      // A copy of the class automaton: its states, plus one exit; words that can end the phrase also lead to the exit.
      const base = states;
      const exit = base + sub.next.length;
      states = exit + 1;
      sub.next.forEach((m, p) => {
        for (const [w, q] of m) {
          if (sub.next[q].size > 0) word(base + p, base + q, w);
          if (sub.final[q]) word(base + p, exit, w);
        }
      });
      for (const t of targets) {
        for (const s of byTarget.get(t)!) {
          nul(s, base + sub.start);
          if (sub.final[sub.start]) nul(s, t);
        }
        nul(exit, t);
      }
    }
  }
  const name = options.name ?? "talkcart";
  const text = [`FSG_BEGIN ${name}`, `NUM_STATES ${states}`, `START_STATE ${main.start}`, `FINAL_STATE ${final}`, ...lines, "FSG_END", ""].join("\n");
  return { text, states, arcs, shared };
}
