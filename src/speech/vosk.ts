import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import koffi from "koffi";
import { SAMPLE_RATE, type Pcm } from "../audio/types.js";
import type { Grammar, ListDef } from "../nlu/grammar.js";
import type { TemplateNode } from "../nlu/template.js";
import { tokenize } from "../nlu/text.js";
import { expand, grammarPhrases } from "../nlu/vocabulary.js";
import { checkModelLayout, ModelNotFound, resolveVoskModel, VOSK_MODEL_ENV, VOSK_MODEL_LAYOUT, type ModelLayout } from "./models.js";
import { RecognizerUnavailable, type Hypothesis, type RecognitionDomain, type Recognizer, type Utterance } from "./types.js";

/**
 * Vosk (Kaldi) through koffi, straight over the `libvosk` shipped in the npm `vosk` package — the
 * package's own index.js (ffi-napi) is never loaded.
 *
 * - Library: `TALKCART_VOSK_LIB`, else `vosk/lib/<platform>/libvosk.*` from the installed package
 *   (linux-x86_64, osx-universal, win-x86_64; no linux-arm64 build is in the package, so a Raspberry
 *   Pi needs TALKCART_VOSK_LIB pointing at a libvosk.so for aarch64, e.g. from the vosk Python wheel).
 * - Model: see models.ts (`TALKCART_VOSK_MODEL_<LANG>`, `TALKCART_VOSK_MODEL`, the models directory).
 *   The directory's layout is checked before libvosk sees it, and the pointer libvosk returns is
 *   checked before anything uses it: a recognizer created on a NULL model crashes the process.
 * - Grammar mode (`vosk_recognizer_new_grm`): libvosk estimates a bigram language model from the
 *   phrases it is given, so the phrases are sentences covering the words and word pairs the
 *   compiled intents can say, plus the list values, numbers and catalog phrases, plus "[unk]"
 *   for speech outside the domain (see buildVoskGrammar).
 * - One recognizer (decoder) per session; our VAD marks the utterances: begin() ... end() calls
 *   vosk_recognizer_final_result, which also resets the decoder for the next utterance.
 * - libvosk's stderr logging is off: level -3 (Kaldi's severities are info 0, warning -1, error -2;
 *   measured: vosk_set_log_level(-1) still prints ERROR lines). `TALKCART_VOSK_LOG=1` turns it on.
 */

export const VOSK_LIB_ENV = "TALKCART_VOSK_LIB";
const ENGINE = "vosk";

/** A libvosk pointer (koffi gives BigInt addresses, or null for NULL). */
export type VoskHandle = unknown;

/** The libvosk calls talkcart uses; injectable so tests can watch what reaches the library. */
export interface VoskBinding {
  readonly path: string;
  setLogLevel(level: number): void;
  /** vosk_model_new on a worker thread (loading takes seconds); null when libvosk refuses the model. */
  modelNew(dir: string): Promise<VoskHandle | null>;
  modelFree(model: VoskHandle): void;
  /** -1 when the word is not in the model's vocabulary. */
  modelFindWord(model: VoskHandle, word: string): number;
  recognizerNew(model: VoskHandle, sampleRate: number): VoskHandle | null;
  recognizerNewGrm(model: VoskHandle, sampleRate: number, grammarJson: string): VoskHandle | null;
  setMaxAlternatives(rec: VoskHandle, n: number): void;
  setWords(rec: VoskHandle, on: boolean): void;
  /** True when libvosk detected an endpoint (ignored: our VAD decides). */
  acceptWaveform(rec: VoskHandle, pcm: Int16Array): boolean;
  partialResult(rec: VoskHandle): string;
  finalResult(rec: VoskHandle): string;
  recognizerFree(rec: VoskHandle): void;
}

const isNull = (p: VoskHandle | null | undefined): boolean => p === null || p === undefined || p === 0n || p === 0;

/** Where the vosk npm package keeps libvosk for this platform, or why there is none. */
function packagedLibrary(): { path?: string; problem?: string } {
  const dirs: Record<string, string> = {
    "linux-x64": "linux-x86_64/libvosk.so",
    "darwin-x64": "osx-universal/libvosk.dylib",
    "darwin-arm64": "osx-universal/libvosk.dylib",
    "win32-x64": "win-x86_64/libvosk.dll",
  };
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve("vosk/package.json"));
  } catch {
    return { problem: `libvosk not found: the npm package 'vosk' is not installed (npm install), and ${VOSK_LIB_ENV} is not set` };
  }
  const rel = dirs[`${process.platform}-${process.arch}`];
  if (!rel) {
    return {
      problem: `the npm package 'vosk' ships no libvosk for ${process.platform}-${process.arch}: set ${VOSK_LIB_ENV} to a libvosk built for it (the vosk Python wheel for this platform contains one)`,
    };
  }
  const path = join(pkgDir, "lib", rel);
  return existsSync(path) ? { path } : { problem: `${path} is missing from the installed vosk package (reinstall it)` };
}

/** The libvosk to load: `TALKCART_VOSK_LIB`, else the vosk package's. */
export function voskLibraryPath(env: NodeJS.ProcessEnv = process.env): { path?: string; problem?: string } {
  const explicit = env[VOSK_LIB_ENV];
  if (explicit) return existsSync(explicit) ? { path: explicit } : { problem: `${VOSK_LIB_ENV}=${explicit} does not exist` };
  return packagedLibrary();
}

const loaded = new Map<string, VoskBinding>();
let typesDefined = false;
function defineTypes() {
  if (typesDefined) return;
  koffi.opaque("VoskModel");
  koffi.opaque("VoskRecognizer");
  typesDefined = true;
}

/**
 * Loads libvosk through koffi (once per path) and silences its logging. Throws
 * RecognizerUnavailable saying what to install or set.
 */
export function loadVosk(env: NodeJS.ProcessEnv = process.env, path?: string): VoskBinding {
  const where = path ? { path } : voskLibraryPath(env);
  if (!where.path) throw new RecognizerUnavailable(ENGINE, where.problem!);
  const cached = loaded.get(where.path);
  if (cached) return cached;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(where.path);
  } catch (e) {
    throw new RecognizerUnavailable(ENGINE, `cannot load ${where.path}: ${(e as Error).message.split("\n")[0]}`);
  }
  defineTypes();
  const f = {
    setLogLevel: lib.func("void vosk_set_log_level(int level)"),
    modelNew: lib.func("VoskModel *vosk_model_new(const char *model_path)"),
    modelFree: lib.func("void vosk_model_free(VoskModel *model)"),
    modelFindWord: lib.func("int vosk_model_find_word(VoskModel *model, const char *word)"),
    recognizerNew: lib.func("VoskRecognizer *vosk_recognizer_new(VoskModel *model, float sample_rate)"),
    recognizerNewGrm: lib.func("VoskRecognizer *vosk_recognizer_new_grm(VoskModel *model, float sample_rate, const char *grammar)"),
    setMaxAlternatives: lib.func("void vosk_recognizer_set_max_alternatives(VoskRecognizer *recognizer, int max_alternatives)"),
    setWords: lib.func("void vosk_recognizer_set_words(VoskRecognizer *recognizer, int words)"),
    acceptWaveformS: lib.func("int vosk_recognizer_accept_waveform_s(VoskRecognizer *recognizer, const int16_t *data, int length)"),
    partialResult: lib.func("const char *vosk_recognizer_partial_result(VoskRecognizer *recognizer)"),
    finalResult: lib.func("const char *vosk_recognizer_final_result(VoskRecognizer *recognizer)"),
    recognizerFree: lib.func("void vosk_recognizer_free(VoskRecognizer *recognizer)"),
  };
  const binding: VoskBinding = {
    path: where.path,
    setLogLevel: (level) => f.setLogLevel(level),
    modelNew: (dir) =>
      new Promise((resolvePtr, reject) => {
        f.modelNew.async(dir, (err: unknown, ptr: VoskHandle) => (err ? reject(err) : resolvePtr(ptr)));
      }),
    modelFree: (m) => f.modelFree(m),
    modelFindWord: (m, w) => f.modelFindWord(m, w),
    recognizerNew: (m, rate) => f.recognizerNew(m, rate),
    recognizerNewGrm: (m, rate, g) => f.recognizerNewGrm(m, rate, g),
    setMaxAlternatives: (r, n) => f.setMaxAlternatives(r, n),
    setWords: (r, on) => f.setWords(r, on ? 1 : 0),
    acceptWaveform: (r, pcm) => f.acceptWaveformS(r, pcm, pcm.length) !== 0,
    partialResult: (r) => f.partialResult(r) ?? "",
    finalResult: (r) => f.finalResult(r) ?? "",
    recognizerFree: (r) => f.recognizerFree(r),
  };
  binding.setLogLevel(env.TALKCART_VOSK_LOG && env.TALKCART_VOSK_LOG !== "0" ? 0 : -3);
  loaded.set(where.path, binding);
  return binding;
}

// ---------------------------------------------------------------------------------------------
// Grammar

export interface VoskGrammarOptions {
  /** Upper bound on the phrases handed to libvosk (default 20 000). */
  maxPhrases?: number;
  /** Include the grammar's skip words ("please", "um") as phrases (default true). */
  skipWords?: boolean;
}

export interface VoskGrammar {
  /** Lower-case phrases, "[unk]" last. */
  phrases: string[];
  /** What vosk_recognizer_new_grm takes: JSON.stringify(phrases). */
  json: string;
  /** Every distinct word in the phrases (without "[unk]"). */
  words: string[];
  /** Whether maxPhrases cut the list. */
  truncated: boolean;
}

/** The model's out-of-grammar token. */
export const UNK = "[unk]";

/**
 * The grammar for `vosk_recognizer_new_grm`, from the compiled intents and the catalog.
 *
 * libvosk turns the phrase list into a bigram language model with backoff (recognizer.cc
 * UpdateGrammarFst: ngram order 2, discount 0.5), so what matters is which words occur and which
 * word pairs. Expanding the templates is out of the question (10^12 sentences for en); instead, in
 * this order, until `maxPhrases`:
 *   1. the list values, number words, catalog phrases (`grammarPhrases`) and skip words that
 *      bring a word not seen yet;
 *   2. per template, the shortest sentences that put each of its words in a real context, and
 *      each way it can start and end (slots filled with their lists' values in turn);
 *   3. the rest of the phrases of 1;
 *   4. per template, sentences through each word-to-word transition not yet covered.
 * Pairs the cap leaves out still get backoff probability. Then "[unk]" for speech outside the domain.
 * Measured with the bundled intents and catalog: en 19.1k phrases (505 KB), de 8.5k, none cut.
 */
export function buildVoskGrammar(domain: RecognitionDomain, opts: VoskGrammarOptions = {}): VoskGrammar {
  const { grammar, locale } = domain;
  const maxPhrases = opts.maxPhrases ?? 20_000;
  const norm = (text: string) => tokenize(text, locale).join(" ");
  const catalog = [...new Set(domain.catalogPhrases.map(norm).filter(Boolean))];

  const phrases = new Set<string>();
  let truncated = false;
  /** Template words and slot samples are tokens already; other phrases are normalized first. */
  const add = (p: string, tokens = false) => {
    const n = tokens ? p : norm(p);
    if (!n) return;
    if (phrases.size >= maxPhrases - 1) { truncated ||= !phrases.has(n); return; }
    phrases.add(n);
  };

  // Every word first, so that a cut list still holds them all: the vocabulary phrases that bring a
  // word not seen yet, then every template word in a sentence; then the other phrases and the word order.
  const vocabulary = [...grammarPhrases(grammar, catalog), ...(opts.skipWords ?? true ? grammar.skipWords.map((ws) => ws.join(" ")) : [])];
  const seen = new Set<string>();
  const bringsWord = (p: string) => {
    const before = seen.size;
    norm(p).split(" ").forEach((w) => seen.add(w));
    return seen.size > before;
  };
  const newWords = vocabulary.filter(bringsWord);
  const samples = slotSamples(grammar, catalog);
  const automata = grammar.sentences.map((s) => automaton(s.node, grammar, samples));
  const covered = new Set<string>();
  const room = () => phrases.size < maxPhrases - 1;
  newWords.forEach((p) => add(p));
  const cut = () => (truncated = true);
  for (const a of automata) cover(a, "words", covered, samples, (p) => add(p, true), room, cut);
  vocabulary.forEach((p) => add(p));
  for (const a of automata) cover(a, "pairs", covered, samples, (p) => add(p, true), room, cut);

  const list = [...phrases, UNK];
  const words = [...new Set(list.flatMap((p) => p.split(" ")).filter((w) => w !== UNK))].sort();
  return { phrases: list, json: JSON.stringify(list), words, truncated };
}

/** Sample phrases for each list, rotated through as slots are filled. */
function slotSamples(grammar: Grammar, catalog: string[]): Samples {
  const numberWords = new Map<number, string[]>();
  for (const { node, value } of grammar.numbers) {
    for (const e of expand(node, grammar, 5)) if (e.length) numberWords.set(value, [...(numberWords.get(value) ?? []), e.join(" ")]);
  }
  const digit = (d: number) => numberWords.get(d)?.find((w) => !w.includes(" "));
  const digitsOf = (n: number) => [...String(n)].map((c) => digit(Number(c))).filter(Boolean).join(" ");
  const out: Samples = new Map();
  for (const [name, def] of Object.entries(grammar.lists) as [string, ListDef][]) {
    let values: string[] = [];
    switch (def.kind) {
      case "catalog": values = catalog; break;
      case "values": values = def.values.flatMap((v) => expand(v.node, grammar, 5).map((e) => e.join(" "))); break;
      case "range":
        for (const [v, ws] of numberWords) if (v >= def.from && v <= def.to) values.push(...ws);
        if (values.length === 0) values = [def.from, def.to].map(digitsOf);
        break;
      case "digits":
        values = [1234567890, 9876543210].map((n) => digitsOf(n).split(" ").slice(0, def.min).join(" "));
        break;
    }
    values = [...new Set(values.filter(Boolean))];
    if (values.length) out.set(name, { values, next: 0 });
  }
  return out;
}

type Samples = Map<string, { values: string[]; next: number }>;

/** One template as a Glushkov automaton over word (and slot) positions, with shortest ways in and out. */
interface Automaton {
  labels: { word?: string; list?: string }[];
  follow: Set<number>[];
  first: Set<number>;
  last: Set<number>;
  /** Predecessor on a shortest way in from the start (-1: a first position, -2: unreachable). */
  prev: number[];
  /** Successor on a shortest way out to the end (-1: a last position, -2: no way out). */
  next: number[];
}

function automaton(root: TemplateNode, grammar: Grammar, samples: Samples): Automaton {
  const labels: Automaton["labels"] = [];
  const follow: Set<number>[] = [];
  type Frag = { first: number[]; last: number[]; nullable: boolean };
  const NOTHING: Frag = { first: [], last: [], nullable: false };
  const position = (l: { word?: string; list?: string }): Frag => {
    labels.push(l);
    follow.push(new Set());
    const p = labels.length - 1;
    return { first: [p], last: [p], nullable: false };
  };
  const build = (node: TemplateNode, rules: string[]): Frag => {
    switch (node.kind) {
      case "word": return position({ word: node.word });
      case "slot": return samples.has(node.list) ? position({ list: node.list }) : NOTHING;
      case "rule": {
        const body = grammar.rules[node.name];
        return body && !rules.includes(node.name) ? build(body, [...rules, node.name]) : NOTHING;
      }
      case "alt": {
        const parts = node.options.map((o) => build(o, rules));
        return { first: parts.flatMap((p) => p.first), last: parts.flatMap((p) => p.last), nullable: parts.some((p) => p.nullable) };
      }
      case "seq": {
        let acc: Frag = { first: [], last: [], nullable: true };
        for (const item of node.items) {
          const f = build(item, rules);
          // A part that cannot be said (a slot without values) makes the whole sequence unsayable.
          if (!f.nullable && f.first.length === 0) return NOTHING;
          for (const a of acc.last) for (const b of f.first) follow[a].add(b);
          acc = {
            first: acc.nullable ? [...acc.first, ...f.first] : acc.first,
            last: f.nullable ? [...acc.last, ...f.last] : f.last,
            nullable: acc.nullable && f.nullable,
          };
        }
        return acc;
      }
    }
  };
  const top = build(root, []);
  const n = labels.length;
  const prev = new Array<number>(n).fill(-2);
  const queue: number[] = [];
  for (const p of top.first) if (prev[p] === -2) { prev[p] = -1; queue.push(p); }
  for (let i = 0; i < queue.length; i++) for (const q of follow[queue[i]]) if (prev[q] === -2) { prev[q] = queue[i]; queue.push(q); }
  const preds: number[][] = Array.from({ length: n }, () => []);
  follow.forEach((set, p) => set.forEach((q) => preds[q].push(p)));
  const next = new Array<number>(n).fill(-2);
  const back: number[] = [];
  for (const p of top.last) if (next[p] === -2) { next[p] = -1; back.push(p); }
  for (let i = 0; i < back.length; i++) for (const p of preds[back[i]]) if (next[p] === -2) { next[p] = back[i]; back.push(p); }
  return { labels, follow, first: new Set(top.first), last: new Set(top.last), prev, next };
}

/**
 * Sentences of one template through positions or transitions not yet covered (`covered` holds
 * words as "w:word" and word pairs as "a b", with <s> and </s> for the ends; shared across
 * templates). "words": every word of the template in at least one sentence, every way to start and
 * end. "pairs": also every word-to-word transition. Each is the shortest sentence through it, slots
 * filled with the next sample value of their list. A sentence still needed when `room()` is false
 * calls `cut()` and stops the covering; a list that is exactly full is not cut.
 */
function cover(a: Automaton, mode: "words" | "pairs", covered: Set<string>, samples: Samples, emit: (s: string) => void, room: () => boolean, cut: () => void) {
  const { labels, follow, first, last, prev, next } = a;
  const label = (p: number) => labels[p].word ?? `{${labels[p].list}}`;
  const say = (path: number[]) => {
    covered.add(`<s> ${label(path[0])}`);
    covered.add(`${label(path[path.length - 1])} </s>`);
    path.forEach((p, i) => {
      covered.add(`w:${label(p)}`);
      if (i > 0) covered.add(`${label(path[i - 1])} ${label(p)}`);
    });
    emit(path.map((p) => {
      const l = labels[p];
      if (l.word !== undefined) return l.word;
      const s = samples.get(l.list!)!;
      return s.values[s.next++ % s.values.length];
    }).join(" "));
  };
  /** The shortest sentence through position p (and then q, when given); undefined if there is none. */
  const through = (p: number, q?: number): number[] | undefined => {
    const out = q ?? p;
    if (prev[p] === -2 || next[out] === -2) return undefined;
    const path: number[] = [];
    for (let x = p; x !== -1; x = prev[x]) path.unshift(x);
    if (q !== undefined) path.push(q);
    for (let x = next[out]; x !== -1; x = next[x]) path.push(x);
    return path;
  };
  let stopped = false;
  const need = (key: string, path: () => number[] | undefined) => {
    if (stopped || covered.has(key)) return;
    const p = path();
    if (!p) return;
    if (room()) say(p);
    else {
      stopped = true;
      cut();
    }
  };
  for (let p = 0; p < labels.length && !stopped; p++) {
    if (first.has(p)) need(`<s> ${label(p)}`, () => through(p));
    if (last.has(p)) need(`${label(p)} </s>`, () => through(p));
    if (mode === "words") need(`w:${label(p)}`, () => through(p));
    else for (const q of follow[p]) need(`${label(p)} ${label(q)}`, () => through(p, q));
  }
}

// ---------------------------------------------------------------------------------------------
// Results

interface VoskWord { word: string; start: number; end: number; conf?: number }
interface VoskAlternative { text?: string; confidence?: number; result?: VoskWord[] }

const round = (x: number) => Math.round(x * 1000) / 1000;
const stripUnk = (text: string | undefined) => (text ?? "").split(" ").filter((w) => w && w !== UNK).join(" ");

/**
 * libvosk's final result as n-best hypotheses, best first. With alternatives (n-best mode), each
 * alternative's `confidence` is a total log-likelihood; those become posteriors within the list
 * (softmax). Without, the confidence is the mean of the word confidences (1 when none are given).
 * "[unk]" (speech outside the grammar) is dropped from texts and words; a hypothesis with nothing
 * else is left out, and alternatives that become equal are merged. Word times are made relative to
 * the utterance (`offsetSeconds`: where it began in the recognizer's audio).
 */
export function parseVoskResult(json: string, offsetSeconds = 0): Hypothesis[] {
  let obj: { alternatives?: VoskAlternative[]; text?: string; result?: VoskWord[] };
  try {
    obj = JSON.parse(json);
  } catch {
    throw new Error(`vosk: unreadable result ${JSON.stringify(json.slice(0, 80))}`);
  }
  const words = (ws: VoskWord[] | undefined) =>
    ws?.filter((w) => w.word !== UNK).map((w) => ({ word: w.word, start: round(Math.max(0, w.start - offsetSeconds)), end: round(Math.max(0, w.end - offsetSeconds)) }));
  let hyps: Hypothesis[];
  if (Array.isArray(obj.alternatives)) {
    const scores = obj.alternatives.map((a) => Number(a.confidence ?? 0));
    const max = Math.max(...scores);
    const weights = scores.map((s) => Math.exp(s - max));
    const sum = weights.reduce((a, b) => a + b, 0) || 1;
    const byText = new Map<string, Hypothesis>();
    obj.alternatives.forEach((a, i) => {
      const text = stripUnk(a.text);
      if (!text) return;
      const seen = byText.get(text);
      if (seen) { seen.confidence += weights[i] / sum; return; }
      const h: Hypothesis = { text, confidence: weights[i] / sum };
      const w = words(a.result);
      if (w?.length) h.words = w;
      byText.set(text, h);
    });
    hyps = [...byText.values()];
  } else {
    const text = stripUnk(obj.text);
    if (!text) return [];
    const confs = (obj.result ?? []).filter((w) => w.word !== UNK && typeof w.conf === "number").map((w) => w.conf!);
    const h: Hypothesis = { text, confidence: confs.length ? confs.reduce((a, b) => a + b, 0) / confs.length : 1 };
    const w = words(obj.result);
    if (w?.length) h.words = w;
    hyps = [h];
  }
  for (const h of hyps) h.confidence = round(Math.min(1, h.confidence));
  return hyps.sort((a, b) => b.confidence - a.confidence);
}

// ---------------------------------------------------------------------------------------------
// Recognizer

export interface VoskOptions {
  locale: string;
  /** Restrict recognition to the domain (grammar mode); omitted: the model's full vocabulary. */
  domain?: RecognitionDomain;
  env?: NodeJS.ProcessEnv;
  /** A model directory instead of the variables (still validated). */
  modelDir?: string;
  /** A loaded binding (tests inject one); default: loadVosk(env). */
  binding?: VoskBinding;
  /** n-best size (default 5; 0 gives one hypothesis with word confidences). */
  maxAlternatives?: number;
  /** Word timings (default true). */
  words?: boolean;
  grammar?: VoskGrammarOptions;
}

function unavailable(message: string): RecognizerUnavailable {
  return new RecognizerUnavailable(ENGINE, message);
}

/**
 * Opens a model (validated layout, then libvosk, then a NULL check) — the only way talkcart calls
 * vosk_model_new. Throws RecognizerUnavailable naming `source` (the variable) and the layout.
 */
export async function openVoskModel(binding: VoskBinding, dir: string, source = VOSK_MODEL_ENV): Promise<{ model: VoskHandle; layout: ModelLayout }> {
  const layout = checkModelLayout(dir);
  if (!layout.ok) {
    throw unavailable(`${source} points to ${dir}, which is not a usable Vosk model: ${layout.problems.join("; ")}. Expected ${VOSK_MODEL_LAYOUT}.`);
  }
  const model = await binding.modelNew(dir);
  if (isNull(model)) {
    throw unavailable(
      `libvosk could not load the model in ${dir} (from ${source}): its files are there but damaged or from an incompatible Vosk version — ` +
        `download and unzip it again (talkcart models); TALKCART_VOSK_LOG=1 shows libvosk's reason. Expected ${VOSK_MODEL_LAYOUT}.`,
    );
  }
  return { model, layout };
}

/** A Vosk recognizer over one model; create with createVoskRecognizer. */
export class VoskRecognizer implements Recognizer {
  readonly name = "vosk";
  private open = false;
  private closed = false;
  /** Samples fed to the decoder by earlier utterances (libvosk's word times count from the first). */
  private samplesBefore = 0;

  constructor(
    readonly locale: string,
    readonly modelDir: string,
    /** "grammar" when restricted to the domain; "open" for the model's full vocabulary. */
    readonly mode: "grammar" | "open",
    /** The phrases given to libvosk in grammar mode. */
    readonly grammar: VoskGrammar | undefined,
    /** Grammar words the model does not know (libvosk drops them silently). */
    readonly missingWords: string[],
    private readonly binding: VoskBinding,
    private model: VoskHandle | null,
    private rec: VoskHandle | null,
  ) {}

  begin(): Utterance {
    if (this.closed) throw new Error("vosk: recognizer is closed");
    if (this.open) throw new Error("vosk: an utterance is already open (end() it first)");
    this.open = true;
    const offsetSeconds = this.samplesBefore / SAMPLE_RATE;
    let written = 0;
    let partial: string | undefined = "";
    let ended = false;
    return {
      write: (pcm: Pcm) => {
        if (ended) throw new Error("vosk: write() after end()");
        if (this.closed) throw new Error("vosk: recognizer is closed");
        if (pcm.length === 0) return;
        this.binding.acceptWaveform(this.rec, pcm);
        written += pcm.length;
        partial = undefined;
      },
      partial: () => {
        if (ended || this.closed || written === 0) return partial ?? "";
        if (partial === undefined) {
          try {
            partial = stripUnk((JSON.parse(this.binding.partialResult(this.rec)) as { partial?: string }).partial);
          } catch {
            partial = "";
          }
        }
        return partial;
      },
      end: async () => {
        if (ended) throw new Error("vosk: end() called twice");
        ended = true;
        this.open = false;
        if (this.closed) return [];
        if (written === 0) return [];
        const json = this.binding.finalResult(this.rec);
        this.samplesBefore += written;
        return parseVoskResult(json, offsetSeconds);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.open = false;
    if (!isNull(this.rec)) this.binding.recognizerFree(this.rec);
    if (!isNull(this.model)) this.binding.modelFree(this.model);
    this.rec = null;
    this.model = null;
  }
}

/**
 * A Vosk recognizer for a locale: the library (loadVosk), the model (models.ts resolution, layout
 * check, NULL check), then a grammar recognizer when a domain is given and the model takes
 * runtime grammars (HCLG-only models fall back to their full vocabulary: `mode` says which).
 * Throws RecognizerUnavailable with one line saying what to install or set.
 */
export async function createVoskRecognizer(opts: VoskOptions): Promise<VoskRecognizer> {
  const env = opts.env ?? process.env;
  let dir: string;
  let source: string;
  if (opts.modelDir) {
    dir = opts.modelDir;
    source = "the model directory given";
  } else {
    try {
      const resolved = resolveVoskModel(opts.locale, env);
      dir = resolved.dir;
      source = resolved.source;
    } catch (e) {
      if (e instanceof ModelNotFound) throw unavailable(e.message);
      throw e;
    }
  }
  const binding = opts.binding ?? loadVosk(env);
  const { model, layout } = await openVoskModel(binding, dir, source);
  try {
    let grammar: VoskGrammar | undefined;
    let missingWords: string[] = [];
    let rec: VoskHandle | null;
    if (opts.domain && layout.grammar) {
      grammar = buildVoskGrammar(opts.domain, opts.grammar);
      missingWords = grammar.words.filter((w) => binding.modelFindWord(model, w) < 0);
      rec = binding.recognizerNewGrm(model, SAMPLE_RATE, grammar.json);
    } else {
      rec = binding.recognizerNew(model, SAMPLE_RATE);
    }
    if (isNull(rec)) throw unavailable(`libvosk could not create a recognizer on the model in ${dir} (from ${source}); TALKCART_VOSK_LOG=1 shows why`);
    binding.setMaxAlternatives(rec, Math.max(0, opts.maxAlternatives ?? 5));
    binding.setWords(rec, opts.words ?? true);
    return new VoskRecognizer(opts.locale, dir, grammar ? "grammar" : "open", grammar, missingWords, binding, model, rec);
  } catch (e) {
    binding.modelFree(model);
    throw e;
  }
}

/** For `talkcart doctor`: whether Vosk can run for a locale, without loading a model. */
export function voskStatus(locale: string, env: NodeJS.ProcessEnv = process.env): { ok: boolean; library?: string; model?: string; modelSource?: string; grammar?: boolean; problem?: string } {
  let library: string | undefined;
  try {
    library = loadVosk(env).path;
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
  try {
    const m = resolveVoskModel(locale, env);
    return { ok: true, library, model: m.dir, modelSource: m.source, grammar: m.layout.grammar };
  } catch (e) {
    return { ok: false, library, problem: (e as Error).message };
  }
}
