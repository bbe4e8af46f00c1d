import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { TemplateNode } from "../nlu/template.js";
import { saidDigitByDigit, type Grammar, type ListDef } from "../nlu/grammar.js";
import { editDistance, tokenize } from "../nlu/text.js";
import { grammarWords } from "../nlu/vocabulary.js";
import type { RecognitionDomain } from "./types.js";
import { dictionaryOfText } from "./dictionary-text.js";

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
 * Words the dictionary lacks get generated pronunciations where possible (`added`: dictionary
 * words written together, "talkcart" = talk + cart, else espeak-ng's letter-to-sound rules mapped
 * to ARPAbet, "lavazza"); the rest are reported (`missing`) and the alternatives that need them
 * are left out. Alternatives that sound the same ("twenty one" / "twentyone") are kept once.
 * Sentence-initial skip words ("hey talkcart", "um") are allowed before any command, and the
 * real-word ones ("please") after it.
 *
 * Sphinxbase compiles JSGF by inlining every rule reference; for the full English grammar that is
 * ~100k words and loading takes minutes. `jsgf-fsg.ts` compiles the same rules to a compact FSG.
 */

/** A pronouncing dictionary: word -> pronunciations (ARPAbet phones separated by spaces). */
export interface PronouncingDictionary {
  has(word: string): boolean;
  /** The first pronunciation. */
  phones(word: string): string | undefined;
  /** Every pronunciation ("read" has two). */
  variants(word: string): string[];
}

export const DEFAULT_MODEL_DIR = "/usr/share/pocketsphinx/model/en-us";
export const DEFAULT_HMM = `${DEFAULT_MODEL_DIR}/en-us`;
export const DEFAULT_DICT = `${DEFAULT_MODEL_DIR}/cmudict-en-us.dict`;

/** Reads a pocketsphinx/CMU dictionary file ("word PH ON ES", alternates as "word(2) ..."). */
export function loadDictionary(path = DEFAULT_DICT): PronouncingDictionary {
  if (!existsSync(path)) throw new Error(`pronouncing dictionary not found: ${path}`);
  return dictionaryOfText(readFileSync(path, "utf8"));
}

export function dictionaryFrom(entries: Map<string, string | string[]> | Record<string, string | string[]>): PronouncingDictionary {
  const map = new Map<string, string[]>();
  for (const [w, p] of entries instanceof Map ? entries : Object.entries(entries)) map.set(w, Array.isArray(p) ? p : [p]);
  return { has: (w) => map.has(w), phones: (w) => map.get(w)?.[0], variants: (w) => map.get(w) ?? [] };
}

/** A dictionary file with just these words (all their pronunciations) and the generated ones: small and quick to load. */
export function dictionaryText(words: Iterable<string>, dict: PronouncingDictionary, added: Map<string, string> = new Map()): string {
  const lines: string[] = [];
  for (const w of new Set(words)) {
    const variants = dict.has(w) ? dict.variants(w) : added.has(w) ? [added.get(w)!] : [];
    variants.forEach((p, i) => lines.push(`${i === 0 ? w : `${w}(${i + 1})`} ${p}`));
  }
  return lines.join("\n") + "\n";
}

/**
 * A pronunciation for a word the dictionary lacks, when it is two or three dictionary words of at
 * least three letters written together ("talkcart", "bestsellers", "fortyone"), or the dictionary
 * spelling without accents ("café" -> "cafe"). Undefined when no such reading exists.
 */
export function composePronunciation(word: string, dict: PronouncingDictionary): string | undefined {
  const plain = word.normalize("NFD").replace(/\p{M}/gu, "");
  if (plain !== word && dict.has(plain)) return dict.phones(plain);
  if (!/^[a-z']+$/.test(plain)) return undefined;
  const split = (rest: string, parts: number): string[] | undefined => {
    if (rest.length >= 3 && dict.has(rest)) return [rest];
    if (parts <= 1) return undefined;
    // Longest first part first: "bestsellers" -> best + sellers.
    for (let i = rest.length - 3; i >= 3; i--) {
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

/** espeak-ng's phoneme mnemonics (`-x`, en-us) as ARPAbet, the phone set of the en-us acoustic model. */
const ESPEAK_TO_ARPABET: Record<string, string> = {
  "a": "AE", "aa": "AE", "a#": "AH", "A": "AA", "A:": "AA", "A@": "AA R", "@": "AH", "@2": "AH", "@5": "AH", "@L": "AH L", "@r": "ER",
  "3": "ER", "3:": "ER", "E": "EH", "e": "EH", "e@": "EH R", "eI": "EY", "I": "IH", "I2": "IH", "I#": "IH", "i": "IY", "i:": "IY",
  "i@": "IY AH", "i@3": "IH R", "0": "AA", "O": "AO", "O:": "AO", "O@": "AO R", "o@": "AO R", "OI": "OY", "oU": "OW", "o": "OW",
  "U": "UH", "U@": "UH R", "u": "UW", "u:": "UW", "V": "AH", "aI": "AY", "aI@": "AY ER", "aI3": "AY ER", "aU": "AW", "aU@": "AW ER",
  "p": "P", "b": "B", "t": "T", "t#": "T", "d": "D", "d#": "D", "k": "K", "g": "G", "f": "F", "v": "V", "s": "S", "z": "Z", "m": "M",
  "n": "N", "n-": "AH N", "l": "L", "l-": "AH L", "r": "R", "r-": "R", "w": "W", "h": "HH", "T": "TH", "D": "DH", "S": "SH", "Z": "ZH",
  "N": "NG", "j": "Y", "tS": "CH", "dZ": "JH", "?": "T", "x": "K", "C": "HH",
};

/**
 * Pronunciations from espeak-ng's letter-to-sound rules (`espeak-ng -x`), mapped to ARPAbet.
 * Words espeak-ng cannot say in phonemes we know are left out; without espeak-ng, none.
 */
export function espeakPronunciations(words: string[], voice = "en-us"): Map<string, string> {
  const out = new Map<string, string>();
  if (words.length === 0) return out;
  let text: string;
  try {
    text = execFileSync("espeak-ng", ["-q", "-v", voice, "-x", "--sep=_"], { input: words.map((w) => `${w}.`).join("\n") + "\n", encoding: "utf8", timeout: 20_000 });
  } catch {
    return out;
  }
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  if (lines.length !== words.length) return out; // lines no longer match words: trust none
  words.forEach((word, i) => {
    const phones: string[] = [];
    for (const raw of lines[i].split(/[_\s]+/)) {
      const ph = raw.replace(/^[',%=]+|[',%=]+$/g, "");
      if (!ph) continue;
      const arpa = ESPEAK_TO_ARPABET[ph] ?? ESPEAK_TO_ARPABET[ph.replace(/[#\d]+$/, "")];
      if (!arpa) return; // an espeak phoneme we do not map: no pronunciation
      for (const a of arpa.split(" ")) if (phones[phones.length - 1] !== a || /^(AA|AE|AH|AO|AW|AY|EH|ER|EY|IH|IY|OW|OY|UH|UW)$/.test(a)) phones.push(a);
    }
    if (phones.length) out.set(word, phones.join(" "));
  });
  return out;
}

/**
 * Pronunciations for words the dictionary lacks. A compound of dictionary words is the better
 * guess (its parts come from the dictionary the acoustic model was trained with) when espeak-ng
 * hears about the same thing ("talkcart"); when it does not ("danone" is not "dan" + "one"),
 * espeak-ng's reading wins.
 */
export function generatePronunciations(words: string[], dict: PronouncingDictionary, how: "espeak" | "compose" | "none" = "espeak"): Map<string, string> {
  const out = new Map<string, string>();
  if (how === "none") return out;
  const spoken = how === "espeak" ? espeakPronunciations(words) : new Map<string, string>();
  for (const w of words) {
    const composed = composePronunciation(w, dict);
    const said = spoken.get(w);
    if (composed && (!said || editDistance(composed.split(" "), said.split(" ")) <= Math.max(1, Math.floor(said.split(" ").length / 5)))) out.set(w, composed);
    else if (said) out.set(w, said);
    else if (composed && how === "compose") out.set(w, composed);
  }
  return out;
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
  /**
   * Pronunciations for words missing from the dictionary: "espeak" (default): dictionary words
   * written together ("talkcart") where espeak-ng agrees, else espeak-ng's letter-to-sound rules;
   * "compose": only the dictionary-word compounds; "none": missing words are left out.
   */
  pronunciations?: "espeak" | "compose" | "none";
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
  /** `<command>` is `[<lead>] (<intent rule> | ...) [<trail>]`. */
  structure: { lead?: string; intents: string[]; trail?: string };
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
  const locale = domain.locale;

  // Every word the domain can use; those the dictionary lacks get generated pronunciations where possible.
  const candidates = new Set(grammarWords(grammar));
  for (const p of domain.catalogPhrases) tokenize(p, locale).forEach((w) => candidates.add(w));
  for (const ws of grammar.skipWords) ws.forEach((w) => candidates.add(w));
  const added = generatePronunciations([...candidates].filter((w) => !dict.has(w)).sort(), dict, options.pronunciations ?? "espeak");
  const missing = new Set<string>();
  const used = new Set<string>();
  const known = (word: string): boolean => {
    if (dict.has(word) || added.has(word)) return true;
    missing.add(word);
    return false;
  };

  /**
   * Alternatives that sound the same ("twenty one" / "twentyone", "ok" / "okay") are kept once: the
   * first spelling. A word written together is compared as its parts even where espeak-ng read it a
   * little differently ("thirtyfive": T for the dictionary's flapped D), else the extra path costs
   * search and lets "for a five" come out as "to thirtyfive".
   */
  const phonesOf = (w: string) => dict.phones(w) ?? composePronunciation(w, dict) ?? added.get(w) ?? w;
  const sayKey = (e: JsgfExp): string =>
    e.kind === "word" ? phonesOf(e.word)
      : e.kind === "seq" && e.items.every((i) => i.kind === "word") ? e.items.map((i) => phonesOf((i as { word: string }).word)).join(" ")
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
          if (saidDigitByDigit(grammar, def)) {
            const digits = digitsExp(1, String(def.to).length);
            if (digits) options.push(digits);
          }
          return alt(options);
        });
      case "digits":
        return ensureRule(`d_${def.min}_${def.max}`, () => digitsExp(def.min, def.max));
    }
  };

  /**
   * Catalog phrases as a trie: "lego (city (fire station | police station) | duplo ...)". Phrases
   * that sound the same ("five hundred grams" / "grammes") are kept once, the one with the most
   * dictionary words: a second path would only split the search, and generated pronunciations are guesses.
   */
  const catalogExp = (phrases: string[]): JsgfExp | null => {
    type Trie = Map<string, Trie> & { end?: boolean };
    const root: Trie = new Map();
    const inDictionary = (ws: string[]) => ws.filter((w) => dict.has(w)).length;
    const bySound = new Map<string, string[]>();
    for (const phrase of phrases) {
      const words = tokenize(phrase, locale);
      if (words.length === 0 || !words.map((w) => word(w)).every(Boolean)) continue; // (every word checked: all missing ones reported)
      const sound = words.map(phonesOf).join(" ");
      const kept = bySound.get(sound);
      if (!kept || inDictionary(words) > inDictionary(kept)) bySound.set(sound, words);
    }
    for (const words of bySound.values()) {
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

  // Skip words around a command: any of them before it ("hey talkcart", "um"), and after it only
  // real words ("please", "kindly"): short hesitation sounds at the end would soak up trailing noise.
  const intents = intentRefs.map((r) => (r as { name: string }).name);
  const parts: JsgfExp[] = [];
  let lead: string | undefined;
  let trail: string | undefined;
  if (options.skipWords ?? true) {
    const phrase = (ws: string[]) => {
      const items = ws.map(word);
      return ws.length > 0 && items.every((i) => i) ? seq(items as JsgfExp[]) : null;
    };
    const leading = alt(grammar.skipWords.map(phrase).filter((e): e is JsgfExp => e !== null));
    const trailing = alt(grammar.skipWords.filter((ws) => ws.every((w) => w.length >= 5)).map(phrase).filter((e): e is JsgfExp => e !== null));
    if (leading && !isEmpty(leading)) rules.set((lead = "skip"), leading.kind === "opt" ? leading.item : leading);
    if (trailing && !isEmpty(trailing)) rules.set((trail = "skip_end"), trailing.kind === "opt" ? trailing.item : trailing);
  }
  if (lead) parts.push({ kind: "opt", item: { kind: "ref", name: lead } });
  parts.push(alt(intentRefs)!);
  if (trail) parts.push({ kind: "opt", item: { kind: "ref", name: trail } });
  const top = seq(parts);

  const name = options.name ?? "talkcart";
  const lines = [`#JSGF V1.0 UTF-8 ${locale};`, `grammar ${name};`, `public <command> = ${render(top)};`];
  for (const [rule, body] of rules) lines.push(`<${rule}> = ${render(body)};`);
  const text = lines.join("\n") + "\n";

  const allRules = new Map(rules);
  allRules.set("command", top);
  // The words the grammar ended up with (alternatives that sounded like others were dropped).
  used.clear();
  const collect = (e: JsgfExp) => {
    if (e.kind === "word") used.add(e.word);
    else if (e.kind === "seq") e.items.forEach(collect);
    else if (e.kind === "alt") e.options.forEach(collect);
    else if (e.kind === "opt") collect(e.item);
  };
  allRules.forEach(collect);
  return {
    text,
    words: [...used].sort(),
    missing: [...missing].sort(),
    added: new Map([...added].filter(([w]) => used.has(w))),
    dropped,
    rules: allRules,
    structure: { lead, intents, trail },
    accepts: acceptor(allRules),
  };
}

/** Whether the rule `start` derives exactly these words (rules are not recursive). */
/**
 * `accepts` is made out here, not inside buildJsgf: a closure there would share buildJsgf's scope
 * and keep the whole pronouncing dictionary (~134k words) alive as long as the grammar lives.
 */
function acceptor(rules: Map<string, JsgfExp>): (input: string[] | string) => boolean {
  return (input) => acceptsWords(rules, "command", typeof input === "string" ? input.split(/\s+/).filter(Boolean) : input);
}

/** Whether a transcript is a sentence of the grammar restricted to some intent rules (i_<Intent>), skip words included. */
export function acceptorAmong(grammar: Pick<JsgfGrammar, "rules" | "structure">, intentRules: string[]): (input: string) => boolean {
  const { lead, trail } = grammar.structure;
  const parts: JsgfExp[] = [];
  if (lead) parts.push({ kind: "opt", item: { kind: "ref", name: lead } });
  parts.push({ kind: "alt", options: intentRules.map((name) => ({ kind: "ref", name })) });
  if (trail) parts.push({ kind: "opt", item: { kind: "ref", name: trail } });
  const rules = new Map(grammar.rules).set("among", seq(parts));
  return (input) => acceptsWords(rules, "among", input.split(/\s+/).filter(Boolean));
}

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
