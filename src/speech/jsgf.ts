import { existsSync, readFileSync } from "node:fs";
import type { TemplateNode } from "../nlu/template.js";
import type { Grammar, ListDef } from "../nlu/grammar.js";
import { tokenize } from "../nlu/text.js";
import type { RecognitionDomain } from "./types.js";

/**
 * JSGF for pocketsphinx, generated from the compiled intent grammar of one locale.
 *
 * The grammar stays factored the way the intent files are written: one rule per intent (its
 * sentences as alternatives), one rule per expansion rule, one per list (values, number ranges,
 * spoken digits) and one for the catalog's product phrases (as a word trie). Nothing is expanded
 * into literal sentences. Pocketsphinx builds its search graph from a single public rule, so
 * there is exactly one: `<command>`, the alternatives of all intent rules.
 *
 * Every word must be in the pronouncing dictionary or the decoder refuses the whole grammar.
 * Words that are not are reported (`missing`) and the alternatives that need them are left out;
 * words that can be spelled as a concatenation of dictionary words ("talkcart" = talk + cart,
 * "wishlist" = wish + list, "twentyone") get a generated pronunciation instead (`added`), which the
 * recognizer registers with the decoder before it loads the grammar.
 */

/** A pronouncing dictionary: word -> first pronunciation (ARPAbet phones separated by spaces). */
export interface PronouncingDictionary {
  has(word: string): boolean;
  phones(word: string): string | undefined;
}

export const DEFAULT_MODEL_DIR = "/usr/share/pocketsphinx/model/en-us";
export const DEFAULT_HMM = `${DEFAULT_MODEL_DIR}/en-us`;
export const DEFAULT_DICT = `${DEFAULT_MODEL_DIR}/cmudict-en-us.dict`;

const dictionaries = new Map<string, PronouncingDictionary>();

/** Reads a pocketsphinx/CMU dictionary file ("word PH ON ES", alternates as "word(2) ..."). Cached per path. */
export function loadDictionary(path = DEFAULT_DICT): PronouncingDictionary {
  let dict = dictionaries.get(path);
  if (dict) return dict;
  if (!existsSync(path)) throw new Error(`pronouncing dictionary not found: ${path}`);
  const map = new Map<string, string>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const space = line.indexOf(" ");
    if (space <= 0) continue;
    const word = line.slice(0, space);
    if (word.endsWith(")")) continue; // alternate pronunciation
    if (!map.has(word)) map.set(word, line.slice(space + 1).trim());
  }
  dict = dictionaryFrom(map);
  dictionaries.set(path, dict);
  return dict;
}

export function dictionaryFrom(entries: Map<string, string> | Record<string, string>): PronouncingDictionary {
  const map = entries instanceof Map ? entries : new Map(Object.entries(entries));
  return { has: (w) => map.has(w), phones: (w) => map.get(w) };
}

/**
 * A pronunciation for a word the dictionary lacks, when it is two or three dictionary words
 * written together ("talkcart", "bestsellers", "fortyone"), or the dictionary spelling without
 * accents ("café" -> "cafe"). Undefined when no such reading exists.
 */
export function composePronunciation(word: string, dict: PronouncingDictionary): string | undefined {
  const plain = word.normalize("NFD").replace(/\p{M}/gu, "");
  if (plain !== word && dict.has(plain)) return dict.phones(plain);
  if (!/^[a-z']+$/.test(plain)) return undefined;
  const split = (rest: string, parts: number): string[] | undefined => {
    if (dict.has(rest) && rest.length >= 2) return [rest];
    if (parts <= 1) return undefined;
    // Longest first part first: "bestsellers" -> best + sellers rather than be + st...
    for (let i = rest.length - 2; i >= 2; i--) {
      const head = rest.slice(0, i);
      if (!dict.has(head)) continue;
      const tail = split(rest.slice(i), parts - 1);
      if (tail) return [head, ...tail];
    }
    return undefined;
  };
  const parts = split(plain, 3);
  return parts && parts.length > 1 ? parts.map((p) => dict.phones(p)).join(" ") : undefined;
}

// ---------------------------------------------------------------------------------------------
// A small expression tree for the JSGF rules (also used to check that a hypothesis is grammatical).

export type JsgfExp =
  | { kind: "word"; word: string }
  | { kind: "seq"; items: JsgfExp[] }
  | { kind: "alt"; options: JsgfExp[] }
  | { kind: "opt"; item: JsgfExp }
  | { kind: "ref"; name: string };

const EMPTY: JsgfExp = { kind: "seq", items: [] };
const isEmpty = (e: JsgfExp) => e.kind === "seq" && e.items.length === 0;

function seq(items: JsgfExp[]): JsgfExp {
  const flat = items.flatMap((i) => (i.kind === "seq" ? i.items : [i]));
  return flat.length === 1 ? flat[0] : { kind: "seq", items: flat };
}

/** Alternatives, with an empty option turned into `[...]` and duplicates removed. */
function altOf(options: JsgfExp[], keyOf: (e: JsgfExp) => string = (e) => render(e)): JsgfExp | null {
  const seen = new Set<string>();
  const kept: JsgfExp[] = [];
  let optional = false;
  for (const o of options) {
    if (isEmpty(o)) { optional = true; continue; }
    if (o.kind === "opt") optional = true;
    const inner = o.kind === "opt" ? o.item : o;
    const key = keyOf(inner);
    if (!seen.has(key)) { seen.add(key); kept.push(inner); }
  }
  if (kept.length === 0) return optional ? EMPTY : null;
  const body: JsgfExp = kept.length === 1 ? kept[0] : { kind: "alt", options: kept.flatMap((k) => (k.kind === "alt" ? k.options : [k])) };
  return optional ? { kind: "opt", item: body } : body;
}

function render(e: JsgfExp, inSeq = false): string {
  switch (e.kind) {
    case "word": return e.word;
    case "ref": return `<${e.name}>`;
    case "opt": return `[${render(e.item)}]`;
    case "seq": return e.items.length === 0 ? "<NULL>" : e.items.map((i) => render(i, true)).join(" ");
    case "alt": {
      const body = e.options.map((o) => render(o)).join(" | ");
      return inSeq ? `(${body})` : body;
    }
  }
}

// ---------------------------------------------------------------------------------------------

export interface JsgfOptions {
  /** The decoder's pronouncing dictionary (default: the Debian en-us cmudict). */
  dictionary?: PronouncingDictionary;
  /** Give words missing from the dictionary a pronunciation made of dictionary words (default true). */
  composePronunciations?: boolean;
  /** Allow the grammar's skip words ("please", "um", "hey talkcart") before and after a command (default true). */
  skipWords?: boolean;
  /** Grammar name in the JSGF header (default "talkcart"). */
  name?: string;
}

export interface JsgfGrammar {
  /** The JSGF source. */
  text: string;
  /** Every word the grammar uses. */
  words: string[];
  /** Words not in the dictionary and without a generated pronunciation: left out of the grammar. */
  missing: string[];
  /** Generated pronunciations the decoder must be given (word -> phones). */
  added: Map<string, string>;
  /** Sentences that could not be kept at all because of missing words. */
  dropped: { intent: string; text: string }[];
  rules: Map<string, JsgfExp>;
  /** Whether a word sequence (a hypothesis) is a sentence of this grammar. */
  accepts(words: string[] | string): boolean;
}

/** The words of a domain that the dictionary lacks and no pronunciation could be made for. */
export function missingWords(domain: RecognitionDomain, options: JsgfOptions = {}): string[] {
  return buildJsgf(domain, options).missing;
}

function ruleName(prefix: string, name: string): string {
  return `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** Builds the JSGF grammar of a domain (compiled intents + catalog phrases) for pocketsphinx. */
export function buildJsgf(domain: RecognitionDomain, options: JsgfOptions = {}): JsgfGrammar {
  const grammar = domain.grammar;
  const dict = options.dictionary ?? loadDictionary();
  const compose = options.composePronunciations ?? true;
  const locale = domain.locale;

  const missing = new Set<string>();
  const added = new Map<string, string>();
  const used = new Set<string>();
  const known = (word: string): boolean => {
    if (dict.has(word) || added.has(word)) return true;
    if (missing.has(word)) return false;
    const phones = compose ? composePronunciation(word, dict) : undefined;
    if (phones) { added.set(word, phones); return true; }
    missing.add(word);
    return false;
  };

  /** Alternatives that sound the same ("twenty one" / "twentyone", "ok" / "okay") are kept once: the first spelling. */
  const phonesOf = (w: string) => dict.phones(w) ?? added.get(w) ?? w;
  const sayKey = (e: JsgfExp): string =>
    e.kind === "word" ? phonesOf(e.word)
      : e.kind === "seq" && e.items.every((i) => i.kind === "word") ? e.items.map((i) => phonesOf((i as { word: string }).word)).join(" | ")
        : render(e);
  const alt = (options: JsgfExp[]) => altOf(options, sayKey);

  const rules = new Map<string, JsgfExp>();
  const ruleState = new Map<string, "building" | "void" | "ok">();

  const word = (w: string): JsgfExp | null => {
    if (!known(w)) return null;
    used.add(w);
    return { kind: "word", word: w };
  };

  /** TemplateNode -> JsgfExp; null where a needed word is missing (the alternative is dropped). */
  const convert = (node: TemplateNode): JsgfExp | null => {
    switch (node.kind) {
      case "word": return word(node.word);
      case "seq": {
        const items: JsgfExp[] = [];
        for (const item of node.items) {
          const e = convert(item);
          if (!e) return null;
          items.push(e);
        }
        return seq(items);
      }
      case "alt": return alt(node.options.map(convert).filter((e): e is JsgfExp => e !== null));
      case "rule": return ensureRule(ruleName("r", node.name), () => convert(grammar.rules[node.name]));
      case "slot": return listRef(node.list);
    }
  };

  function ensureRule(name: string, build: () => JsgfExp | null): JsgfExp | null {
    const state = ruleState.get(name);
    if (state === "ok") return { kind: "ref", name };
    if (state === "void") return null;
    if (state === "building") throw new Error(`JSGF: rule cycle through <${name}>`);
    ruleState.set(name, "building");
    const body = build();
    if (!body) { ruleState.set(name, "void"); return null; }
    // Empty rules are legal in the intent files ("[x]" only) but JSGF wants something: inline them.
    if (isEmpty(body)) { ruleState.set(name, "void"); return EMPTY; }
    rules.set(name, body);
    ruleState.set(name, "ok");
    return { kind: "ref", name };
  }

  // Number words by value, and the single words for the digits 0-9 (as the matcher reads PINs).
  const numberNodes = new Map<number, TemplateNode[]>();
  const digitWords = new Map<number, string[]>();
  for (const { node, value } of grammar.numbers) {
    numberNodes.set(value, [...(numberNodes.get(value) ?? []), node]);
    if (value >= 0 && value <= 9) {
      const singles = node.kind === "word" ? [node] : node.kind === "alt" ? node.options.filter((o) => o.kind === "word") : [];
      for (const s of singles) if (s.kind === "word") digitWords.set(value, [...(digitWords.get(value) ?? []), s.word]);
    }
  }
  const maxNumber = Math.max(-1, ...numberNodes.keys());

  const digitRule = () => ensureRule("digit", () =>
    alt([...digitWords.values()].flat().map(word).filter((e): e is JsgfExp => e !== null)));

  const digitsExp = (min: number, max: number): JsgfExp | null => {
    const d = digitRule();
    if (!d) return null;
    let tail: JsgfExp = EMPTY;
    for (let i = max; i > min; i--) tail = { kind: "opt", item: seq([d, tail]) };
    return seq([...Array.from({ length: min }, () => d), tail]);
  };

  const listRef = (list: string): JsgfExp | null => {
    const def: ListDef = grammar.lists[list];
    switch (def.kind) {
      case "catalog":
        return ensureRule(ruleName("l", list), () => catalogExp(domain.catalogPhrases));
      case "values":
        return ensureRule(ruleName("l", list), () => alt(def.values.map((v) => convert(v.node)).filter((e): e is JsgfExp => e !== null)));
      case "range":
        return ensureRule(`n_${def.from}_${def.to}`.replace(/-/g, "m"), () => {
          const options: JsgfExp[] = [];
          for (const [value, nodes] of numberNodes) {
            if (value < def.from || value > def.to) continue;
            for (const n of nodes) { const e = convert(n); if (e) options.push(e); }
          }
          // Numbers beyond the number words (order numbers) are spoken digit by digit.
          if (def.to > maxNumber) {
            const digits = digitsExp(1, String(def.to).length);
            if (digits) options.push(digits);
          }
          return alt(options);
        });
      case "digits":
        return ensureRule(`d_${def.min}_${def.max}`, () => digitsExp(def.min, def.max));
    }
  };

  /** Catalog phrases as a trie: "lego (city (fire station | police station) | duplo ...)". */
  const catalogExp = (phrases: string[]): JsgfExp | null => {
    type Trie = Map<string, Trie> & { end?: boolean };
    const root: Trie = new Map();
    for (const phrase of phrases) {
      const words = tokenize(phrase, locale);
      if (words.length === 0 || !words.every((w) => word(w))) continue;
      let t = root;
      for (const w of words) {
        if (!t.has(w)) t.set(w, new Map() as Trie);
        t = t.get(w)!;
      }
      t.end = true;
    }
    const toExp = (t: Trie): JsgfExp => {
      const options = [...t.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([w, next]) => seq([{ kind: "word", word: w }, toExp(next)]));
      if (t.end) options.push(EMPTY);
      return alt(options) ?? EMPTY;
    };
    return root.size > 0 ? toExp(root) : null;
  };

  // One rule per intent: its sentences as alternatives.
  const dropped: { intent: string; text: string }[] = [];
  const intentRefs: JsgfExp[] = [];
  for (const intent of grammar.intents) {
    const ref = ensureRule(ruleName("i", intent), () => {
      const options: JsgfExp[] = [];
      for (const s of grammar.sentences.filter((x) => x.intent === intent)) {
        const e = convert(s.node);
        if (e && !isEmpty(e)) options.push(e);
        else dropped.push({ intent, text: s.text });
      }
      return alt(options);
    });
    if (ref && !isEmpty(ref)) intentRefs.push(ref);
  }
  if (intentRefs.length === 0) throw new Error(`JSGF: no sentence of locale '${locale}' can be said with the dictionary's words`);

  let top = alt(intentRefs)!;
  if (options.skipWords ?? true) {
    const skips = alt(grammar.skipWords.map((ws) => {
      const items = ws.map(word);
      return items.every((i) => i) ? seq(items as JsgfExp[]) : null;
    }).filter((e): e is JsgfExp => e !== null && !isEmpty(e)));
    if (skips && !isEmpty(skips)) {
      rules.set("skip", skips.kind === "opt" ? skips.item : skips);
      const skip: JsgfExp = { kind: "opt", item: { kind: "ref", name: "skip" } };
      top = seq([skip, top, skip]);
    }
  }

  const name = options.name ?? "talkcart";
  const lines = [`#JSGF V1.0 UTF-8 ${locale};`, `grammar ${name};`, `public <command> = ${render(top)};`];
  for (const [rule, body] of rules) lines.push(`<${rule}> = ${render(body)};`);
  const text = lines.join("\n") + "\n";

  const allRules = new Map(rules);
  allRules.set("command", top);
  return {
    text,
    words: [...used].sort(),
    missing: [...missing].sort(),
    added: new Map([...added].filter(([w]) => used.has(w))),
    dropped,
    rules: allRules,
    accepts: (input) => acceptsWords(allRules, "command", typeof input === "string" ? input.split(/\s+/).filter(Boolean) : input),
  };
}

/** Whether the rule `start` derives exactly these words (rules are not recursive). */
export function acceptsWords(rules: Map<string, JsgfExp>, start: string, words: string[]): boolean {
  const memo = new Map<JsgfExp, Map<number, number[]>>();
  const ends = (e: JsgfExp, pos: number): number[] => {
    let byPos = memo.get(e);
    if (!byPos) memo.set(e, (byPos = new Map()));
    const cached = byPos.get(pos);
    if (cached) return cached;
    let out: number[];
    switch (e.kind) {
      case "word": out = words[pos] === e.word ? [pos + 1] : []; break;
      case "ref": out = ends(rules.get(e.name)!, pos); break;
      case "opt": out = [...new Set([pos, ...ends(e.item, pos)])]; break;
      case "alt": out = [...new Set(e.options.flatMap((o) => ends(o, pos)))]; break;
      case "seq": {
        let at = [pos];
        for (const item of e.items) {
          at = [...new Set(at.flatMap((p) => ends(item, p)))];
          if (at.length === 0) break;
        }
        out = at;
        break;
      }
    }
    byPos.set(pos, out);
    return out;
  };
  return ends(rules.get(start)!, 0).includes(words.length);
}

/** Product phrases for the `{product}` slot from catalog data: names, brands, category words and terms. */
export function catalogPhrasesOf(
  catalog: { categories: { name: Record<string, string>; plural: Record<string, string> }[]; products: { name: string; brand: string; terms: Record<string, string[]>; i18n?: Record<string, { name?: string }> }[] },
  locale: string,
): string[] {
  const phrases = new Set<string>();
  const add = (p: string | undefined) => {
    const words = p ? tokenize(p, locale) : [];
    if (words.length) phrases.add(words.join(" "));
  };
  for (const c of catalog.categories) { add(c.name[locale]); add(c.plural[locale]); }
  for (const p of catalog.products) {
    add(p.i18n?.[locale]?.name ?? p.name);
    add(p.brand);
    (p.terms[locale] ?? []).forEach(add);
  }
  return [...phrases].sort();
}

/** A recognition domain from a compiled grammar and catalog phrases. */
export function domainOf(grammar: Grammar, catalogPhrases: string[] = []): RecognitionDomain {
  return { locale: grammar.locale, grammar, catalogPhrases };
}

/** How many words the rule becomes once every rule reference is inlined (what sphinxbase's JSGF compiler builds). */
export function inlinedSize(rules: Map<string, JsgfExp>, start = "command"): number {
  const memo = new Map<string, number>();
  const size = (e: JsgfExp): number => {
    switch (e.kind) {
      case "word": return 1;
      case "seq": return e.items.reduce((n, i) => n + size(i), 0);
      case "alt": return e.options.reduce((n, i) => n + size(i), 0);
      case "opt": return size(e.item);
      case "ref":
        if (!memo.has(e.name)) memo.set(e.name, size(rules.get(e.name)!));
        return memo.get(e.name)!;
    }
  };
  return size(rules.get(start)!);
}
