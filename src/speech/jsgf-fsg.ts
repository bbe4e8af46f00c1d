import type { JsgfExp } from "./jsgf.js";

/**
 * The JSGF rules compiled to a compact sphinxbase FSG.
 *
 * Why: sphinxbase's JSGF compiler inlines every rule reference, so the English grammar (product
 * rule ~1000 words referenced 65 times, number rules ~280 words referenced 80 times) becomes a
 * ~100k-word graph full of null transitions: measured, loading it had not finished after 10
 * minutes at 550 MB. Here each intent becomes a minimal deterministic automaton (common prefixes
 * and suffixes shared, one arc per distinct next word) in which the list rules (catalog, numbers,
 * units) stand as single symbols; each list is then spliced in once per intent. Measured: 4.8k
 * states, 21k word arcs, loaded in under a second. The FSG accepts slightly more than the JSGF
 * (within one intent, the words before and after a list may come from different sentences);
 * `JsgfGrammar.accepts` is exact.
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
   * Rules compiled once per place of use and spliced in, instead of being expanded inside the
   * automaton of every sentence (default: lists, numbers, digits and expansion rules: l_*, n_*,
   * d_*, digit, r_*).
   */
  classes?: (name: string) => boolean;
  /**
   * A class gets one copy per place it leads back to (exact) while that costs at most this many
   * word arcs; beyond that, one copy per intent whose exit leads to each of those places (the FSG
   * then accepts a little more than the grammar: within one intent, what precedes and what
   * follows the slot may come from different sentences; `JsgfGrammar.accepts` tells them apart).
   */
  maxCopyArcs?: number;
  /**
   * Transition probabilities: each state shares probability 1 equally among its ways on (a
   * uniform stochastic grammar), so a path through many open choices costs more than one through
   * few. Without it (false) every transition has probability 1, as sphinxbase gives JSGF rules.
   */
  weighted?: boolean;
  /**
   * One copy of each class for the whole grammar instead of one per intent: a third of the arcs
   * (and of the decoder's memory and time); the FSG then also accepts the start of one intent's
   * sentence with the end of another's around a slot, which `JsgfGrammar.accepts` tells apart.
   */
  shareClasses?: boolean; // default true
  name?: string;
}

export interface Fsg {
  text: string;
  states: number;
  /** Word transitions. */
  arcs: number;
  /** Classes shared within an intent (where the FSG accepts a little more than the grammar). */
  shared: string[];
}

/** Lists, numbers, digits and the shared expansion rules ("<pre>": "could you please ..."). */
const DEFAULT_CLASS = (name: string) => /^(l_|n_|d_|digit$|r_)/.test(name);

/**
 * The grammar as a sphinxbase FSG: `[<lead>] (<intent> | ...) [<trail>]` with one minimal
 * automaton per intent, and the class rules (products, numbers) spliced into each.
 */
export function compileFsg(grammar: { rules: Map<string, JsgfExp>; structure: { lead?: string; intents: string[]; trail?: string } }, options: FsgOptions = {}): Fsg {
  const { rules, structure } = grammar;
  const isClass = options.classes ?? DEFAULT_CLASS;
  const classes = new Set([...rules.keys()].filter((n) => isClass(n)));
  const budget = options.maxCopyArcs ?? 0;
  const classAutomata = new Map<string, WordAutomaton>();
  const classAutomaton = (name: string) => {
    let a = classAutomata.get(name);
    if (!a) classAutomata.set(name, (a = compileAutomaton(rules, name)));
    return a;
  };

  const lines: string[] = [];
  let states = 0;
  let arcs = 0;
  const shared = new Set<string>();
  const newState = () => states++;
  const weighted = options.weighted ?? true;
  const p = (n: number) => (weighted && n > 1 ? (1 / n).toPrecision(4) : "1.0");
  const word = (from: number, to: number, w: string, n = 1) => { lines.push(`TRANSITION ${from} ${to} ${p(n)} ${w}`); arcs++; };
  const nul = (from: number, to: number, n = 1) => lines.push(`TRANSITION ${from} ${to} ${p(n)}`);

  /** Class uses waiting to be spliced: class -> target state -> source states. */
  type Uses = Map<string, Map<number, number[]>>;
  const globalUses: Uses = new Map();
  const shareClasses = options.shareClasses ?? true;
  const degree = new Map<number, number>();

  /** Adds a copy of `a` entered (null arcs) from `entries`, leaving to `exit`; class arcs become spliced copies. */
  const splice = (a: WordAutomaton, entries: number[], exit: number) => {
    const base = states;
    states += a.next.length;
    for (const e of entries) nul(e, base + a.start);
    const uses: Uses = shareClasses ? globalUses : new Map();
    a.next.forEach((m, from) => {
      const n = m.size + (a.final[from] ? 1 : 0);
      for (const [w, to] of m) {
        if (!w.startsWith("<")) { word(base + from, base + to, w, n); continue; }
        const cls = w.slice(1, -1);
        let byTarget = uses.get(cls);
        if (!byTarget) uses.set(cls, (byTarget = new Map()));
        byTarget.set(base + to, [...(byTarget.get(base + to) ?? []), base + from]);
        degree.set(base + from, n);
      }
      if (a.final[from]) nul(base + from, exit, n);
    });
    if (!shareClasses) spliceUses(uses);
  };

  const spliceUses = (uses: Uses) => {
    for (const [cls, byTarget] of uses) {
      const sub = classAutomaton(cls);
      const subArcs = automatonSize(sub).arcs;
      if (byTarget.size * subArcs <= budget) {
        for (const [target, sources] of byTarget) spliceClass(sub, sources, [target], degree);
      } else {
        if (byTarget.size > 1) shared.add(cls);
        spliceClass(sub, [...byTarget.values()].flat(), [...byTarget.keys()], degree);
      }
    }
  };

  /** A class automaton with one exit state: words that end a phrase also lead straight to it (no null closure needed). */
  const spliceClass = (sub: WordAutomaton, sources: number[], targets: number[], degree: Map<number, number>) => {
    const base = states;
    states += sub.next.length;
    const exit = newState();
    sub.next.forEach((m, from) => {
      const n = m.size + (sub.final[from] ? 1 : 0);
      for (const [w, q] of m) {
        if (sub.next[q].size > 0) word(base + from, base + q, w, n);
        if (sub.final[q]) word(base + from, exit, w, n);
      }
    });
    for (const s of sources) {
      nul(s, base + sub.start, degree.get(s));
      if (sub.final[sub.start]) for (const t of targets) nul(s, t, degree.get(s));
    }
    // A shared copy leads back to each place it came from, with one share of the probability each.
    for (const t of targets) nul(exit, t, targets.length);
  };

  const start = newState();
  const afterLead = newState();
  const beforeTrail = newState();
  const final = newState();
  nul(start, afterLead);
  if (structure.lead) splice(compileAutomaton(rules, structure.lead, classes), [start], afterLead);
  for (const intent of structure.intents) splice(compileAutomaton(rules, intent, classes), [afterLead], beforeTrail);
  spliceUses(globalUses);
  nul(beforeTrail, final);
  if (structure.trail) splice(compileAutomaton(rules, structure.trail, classes), [beforeTrail], final);

  const name = options.name ?? "talkcart";
  const text = [`FSG_BEGIN ${name}`, `NUM_STATES ${states}`, `START_STATE ${start}`, `FINAL_STATE ${final}`, ...lines, "FSG_END", ""].join("\n");
  return { text, states, arcs, shared: [...shared] };
}
