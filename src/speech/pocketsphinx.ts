import { existsSync } from "node:fs";
import type { Pcm } from "../audio/types.js";
import { acceptorAmong, buildJsgf, DEFAULT_DICT, DEFAULT_HMM, dictionaryText, inlinedSize, loadDictionary, type JsgfGrammar, type JsgfOptions } from "./jsgf.js";
import { NoiseFloor, NOISE_FLOOR_RMS } from "./noise-floor.js";
import { enrollmentInfo } from "./speaker-adaptation.js";
import { compileFsg, type FsgOptions } from "./jsgf-fsg.js";
import { sampleSentences, trigramArpa } from "./jsgf-lm.js";
import {
  call, createDecoder, freeDecoder, INSTALL_HINT, loadPocketsphinx, logSince, logSize, withScratchFile,
  type Decoder, type PsLib,
} from "./pocketsphinx-native.js";
import { RecognizerUnavailable, type RecognitionContext, type Hypothesis, type RecognitionDomain, type Recognizer, type Utterance } from "./types.js";

const ENGINE = "pocketsphinx";
const SAMPLE_RATE = 16_000;
const FRAME_RATE = 100; // pocketsphinx frames per second (-frate default)

/**
 * Decoder flags. From real speakers (`../shared/notes/speech-measurements.md`): the utterance
 * comes cut by our VAD and is decoded as one piece (no built-in silence removal). Measured here on
 * 101 espeak-ng fixtures with the full English grammar (one decoder, in a row):
 * - beams 1e-60/1e-60/1e-40 (the notes' 1e-80 ones cost a third more time for the same result
 *   with a grammar this size: 64.4% vs 62.4% understood, RTF 0.18 vs 0.25);
 * - `-wip 0.05`: a word insertion penalty against short filler words slipped in ("uhm three");
 *   51.5% vs 46.5%;
 * - `-fsgusealtpron no`: the grammar's words with their first pronunciation only: 68.3% vs 66.3%,
 *   and a little faster;
 * - `-bestpath no`: the final hypothesis is the grammar search's own backtrace (a sentence of the
 *   FSG) instead of a rescoring of its lattice, which for this grammar took minutes to build;
 * - `-maxhmmpf 5000`: a cap on active HMMs per frame (half the CPU of the default 30000, same
 *   transcripts).
 */
export const RECOGNITION_FLAGS: Record<string, string> = {
  "-remove_silence": "no",
  "-beam": "1e-60",
  "-pbeam": "1e-60",
  "-wbeam": "1e-40",
  "-wip": "0.05",
  "-fsgusealtpron": "no",
  "-bestpath": "no",
  "-maxhmmpf": "5000",
};

/** Small grammars (JSGF mode) are cheap to search: the wide beams that won on real speakers, which also fill the lattice for n-best. */
export const SMALL_GRAMMAR_FLAGS: Record<string, string> = { "-beam": "1e-80", "-pbeam": "1e-80", "-wbeam": "1e-60" };

/**
 * The phone loop that measures how well any speech fits the audio (see `rejectBelow`): context-
 * independent phones. The triphone loop cost 63 MB (an HMM per triphone) and 0.18 CPU seconds per
 * second of audio; the CI loop costs next to no memory and ~0.04 s. On 200 espeak-ng fixtures
 * against the 29 real out-of-domain recordings that gave a reading, it separates understood
 * commands from them no worse (AUC 0.82; triphones 0.81); from synthetic misfits a little worse
 * (0.80 vs 0.83). Narrow beams: it only needs a fair score. (Tried: -ds 2 saves 8% of the replay's
 * CPU but moves every fit and separates synthetic misfits worse; -topn 2 saves nothing.)
 */
export const PHONE_LOOP_FLAGS: Record<string, string> = {
  "-remove_silence": "no",
  "-allphone_ci": "yes",
  "-beam": "1e-10",
  "-pbeam": "1e-10",
  "-maxhmmpf": "300",
};

/** The alternatives decoder (n-gram search): pocketsphinx's default beams, lattice rescoring on. */
export const ALTERNATIVES_FLAGS: Record<string, string> = {
  "-remove_silence": "no",
  "-bestpath": "yes",
};

export type GrammarMode = "jsgf" | "fsg" | "lm";

export interface PocketsphinxOptions {
  domain: RecognitionDomain;
  /** Acoustic model directory (default `TALKCART_POCKETSPHINX_MODEL` or the Debian en-us model). */
  hmm?: string;
  /** Pronouncing dictionary (default `TALKCART_POCKETSPHINX_DICT` or the Debian cmudict). */
  dict?: string;
  /** Decoder flags added to or replacing RECOGNITION_FLAGS ("-maxhmmpf": "3000", ...). */
  flags?: Record<string, string>;
  /** How many distinct hypotheses end() returns at most (default 5). */
  nbest?: number;
  /**
   * How the intent grammar reaches the decoder:
   * - "jsgf": the JSGF text via `ps_set_jsgf_string` (sphinxbase inlines every rule reference);
   * - "fsg": our automaton (one minimal automaton per intent, lists spliced in) via `ps_set_fsg`;
   * - "lm": a trigram model sampled from the grammar (n-gram search: fastest, least exact);
   * - "auto" (default): JSGF while the inlined grammar stays below JSGF_INLINE_LIMIT words, else FSG.
   */
  grammarMode?: "auto" | GrammarMode;
  /**
   * Where the alternatives after the best hypothesis come from:
   * - "lattice": `ps_nbest` on the grammar search's lattice (cheap for small grammars only: the
   *   lattice of a large grammar at wide beams takes seconds to minutes to build);
   * - "lm": a second decoder with the grammar's trigram model runs on the same audio in parallel
   *   (its own worker thread) and its lattice n-best supplies the alternatives and confidences;
   * - "none": only the best hypothesis (confidence 1).
   * Default: "lattice" for JSGF and LM mode, "lm" for FSG mode.
   */
  alternatives?: "lattice" | "lm" | "none";
  jsgf?: Omit<JsgfOptions, "dictionary">;
  fsg?: FsgOptions;
  /**
   * Rejects an utterance (no hypothesis) when its grammar path fits the audio this much worse per
   * frame than a free phone loop does (default REJECT_BELOW; false: no phone loop, no rejection,
   * confidences from the lattice alone).
   */
  rejectBelow?: number | false;
  /** RMS of the noise floor added to the audio (default NOISE_FLOOR_RMS; 0: none). */
  noiseFloor?: number;
  /** Decode the first utterance again once the cepstral mean has adapted to the voice and channel (default true). */
  redecodeFirst?: boolean;
}

/** The acoustic model and dictionary for a locale: the ones given, else set in the environment, else Debian's en-us. */
export function modelFiles(locale: string, chosen: { hmm?: string; dict?: string } = {}, env = process.env): { hmm: string; dict: string } {
  const ownModel = chosen.hmm ?? env.TALKCART_POCKETSPHINX_MODEL;
  // The installed model is English. German through it (espeak-ng spellings of German words in
  // English phones) understood 15 of 71 German fixtures: worse than no voice at all.
  if (!ownModel && !/^en\b/.test(locale)) {
    throw new RecognizerUnavailable(ENGINE, `only an English acoustic model is installed (pocketsphinx-en-us): for '${locale}' set TALKCART_POCKETSPHINX_MODEL and TALKCART_POCKETSPHINX_DICT to a model of that language, or use vosk or azure`);
  }
  return { hmm: ownModel ?? DEFAULT_HMM, dict: chosen.dict ?? env.TALKCART_POCKETSPHINX_DICT ?? DEFAULT_DICT };
}

/**
 * The domain's JSGF grammar and a pronouncing dictionary of just its words (with the generated
 * ones): the full cmudict would cost every decoder ~134k entries of memory and load time.
 */
export function grammarWithDictionary(domain: RecognitionDomain, dictPath: string, jsgfOptions?: PocketsphinxOptions["jsgf"]): { jsgf: JsgfGrammar; dictionary: string } {
  try {
    const dictionary = loadDictionary(dictPath);
    const jsgf = buildJsgf(domain, { ...jsgfOptions, dictionary });
    return { jsgf, dictionary: dictionaryText(jsgf.words, dictionary, jsgf.added) };
  } catch (e) {
    throw new RecognizerUnavailable(ENGINE, `no grammar for locale '${domain.locale}': ${(e as Error).message}`);
  }
}

/** Grammars whose inlined size (words) stays at or below this go to pocketsphinx as JSGF text. */
export const JSGF_INLINE_LIMIT = 4000;

export interface GrammarInfo {
  mode: GrammarMode;
  alternatives: "lattice" | "lm" | "none";
  /** Words in the grammar. */
  words: number;
  /** Words left out: not in the dictionary and no pronunciation could be generated. */
  missing: string[];
  /** Words given generated pronunciations (word -> ARPAbet phones). */
  added: Map<string, string>;
  /** Size of the JSGF once sphinxbase inlines every rule reference (words). */
  inlinedWords: number;
  fsg?: { states: number; arcs: number; shared: string[] };
  /** FSG mode: each open question's answer set, the size of its automaton, and whether it got a search of its own (known after `ready()`). */
  answerSets: { intents: string[]; arcs: number; searched: boolean }[];
  /** Time to build and load everything (ms). */
  loadMs: number;
}

/** The peak RMS of 20 ms frames below which an utterance counts as silence (about -56 dBFS). */
const SILENCE_RMS = 50;
/** Path scores are log base 1.0001, shifted down 10 bits; divided by pocketsphinx's acoustic scale (-ascale 20). */
const SCORE_TO_NATS = (Math.log(1.0001) * 1024) / 20;
const contextKey = (intents: readonly string[]) => [...intents].sort().join(" ");
/**
 * Fit = (grammar path's acoustic score - free phone loop's) per frame: near 0 when the grammar
 * explains the audio as well as any phone sequence does, very negative for speech the grammar
 * cannot say. On 200 espeak-ng fixtures (CI phone loop), understood commands fit between -38.3 and
 * -12.7 (median -24.3, a tenth below -31.2), misheard and out-of-domain ones between -47.2 and -20.2
 * (median -31.5); the 29 real out-of-domain recordings in audio-fixtures/recorded/ha-commands-en that
 * gave a reading (of 33) between -41.7 and -22.6 (median -30.1). The two overlap, so the fit becomes
 * the best hypothesis' confidence (0.5 at FIT_MIDPOINT) for the dialogue to weigh by what is at
 * stake (src/dialogue/answers.ts), and only clear misfits are dropped here.
 */
export const FIT_MIDPOINT = -32;
const FIT_SCALE = 2;
export const fitConfidence = (fit: number) => 1 / (1 + Math.exp(-(fit - FIT_MIDPOINT) / FIT_SCALE));
export const REJECT_BELOW = -39;
/**
 * The cut for a model adapted to the speaker (`talkcart enroll`): it fits that speaker's requests
 * far better, so misfits stand out more. Measured with adapted models: every espeak-ng fixture
 * understood (173, two voices) fit above -32 (all but one above -30); the real out-of-domain recordings, through a model
 * adapted to their own speaker, fit between -49 and -17, and at -39 one of them ("the usual" at
 * -34.9) added the usual order to the cart.
 */
export const REJECT_BELOW_ADAPTED = -33;
/**
 * An answer to an open question that fits worse than this is decoded again with the whole grammar,
 * whose reading is taken when it fits at least WHOLE_GRAMMAR_MARGIN better. Measured with the
 * triphone loop on espeak-ng commands (two voices) said at four prompts, and carried over to the CI
 * loop's scale (fit_ci = 1.03 fit_tri - 11.2, correlation 0.95 over 88 turns of the conversation
 * tests): answers fit -31 to -15, with the whole grammar never clearly better; requests said instead
 * of an answer fit -37 to -24 as answers and 2 to 15 better with the whole grammar, except where it
 * misheard them too ("add tea to my cart" -> "empty my cart"). The triphone loop's thresholds
 * (midpoint -20, rejection -27, recheck -10) carried over the same way.
 */
const RECHECK_ANSWER_BELOW = -21.5; // (no phone loop, `rejectBelow: false`: no fit, no recheck)
const WHOLE_GRAMMAR_MARGIN = 2;
/**
 * Answer sets whose automaton has more arcs than this share of the whole grammar's get no search
 * of their own (but a secret's always do, see `exclusiveContexts`): a search costs memory in
 * proportion to its arcs (heaptrack: ~1.7 kB each for the search tree, and the FSG model besides).
 * With the demo catalog the sets that name products (a number, a choice, an offer: 3,300-4,100
 * arcs of 8,500) bought nothing measurable — replayed conversation tests 50 of 81 passed with
 * every set searched and 51 with none, in-question fixtures 45 vs 44 of 49 — for 20-30 MB of peak
 * RSS. The small ones (yes/no, the PIN: ~900 arcs) keep theirs. With a smaller catalog more sets
 * fall under the share; they are cheap then.
 */
const CONTEXT_SEARCH_MAX_SHARE = 0.25;
/** The language weight an FSG is read with: the decoder's `-lw` (pocketsphinx's default 6.5). */
const languageWeight = (options: PocketsphinxOptions) => Number(options.flags?.["-lw"] ?? 6.5);
/** Lattice paths read for the n-best. */
const LATTICE_PATHS = 40;

interface Reading {
  text: string;
  score: number;
}

/** One native decoder with its own queue: every call on it runs in order on koffi's worker threads. */
class Channel {
  private queue: Promise<unknown> = Promise.resolve();
  closed = false;

  constructor(readonly lib: PsLib, readonly decoder: Decoder) {}

  run<T>(op: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The decoder's current search: switched only when an utterance asks for another one. */
  search = "grammar";

  start(search = this.search) {
    if (search !== this.search) {
      const offset = logSize();
      if (this.lib.ps_set_search(this.decoder.ps, search) < 0) throw new Error(`pocketsphinx: ps_set_search(${search}) failed: ${logSince(offset)}`);
      this.search = search;
    }
    // A new stream per utterance restarts frame numbering (word times count from 0); the
    // cepstral mean carries over from utterance to utterance.
    const offset = logSize();
    this.lib.ps_start_stream(this.decoder.ps);
    if (this.lib.ps_start_utt(this.decoder.ps) < 0) throw new Error(`pocketsphinx: ps_start_utt failed: ${logSince(offset)}`);
  }

  async process(pcm: Int16Array): Promise<void> {
    await call(this.lib.ps_process_raw, this.decoder.ps, pcm, pcm.length, 0, 0);
  }

  async hypothesis(): Promise<Reading | null> {
    const score = [0];
    const text = await call(this.lib.ps_get_hyp, this.decoder.ps, score);
    return text && text.trim() ? { text: text.trim(), score: score[0] } : null;
  }

  /** The utterance again from its audio (after the first one, once the cepstral mean has adapted; or with another search). */
  async redo(audio: Int16Array[], search = this.search) {
    this.start(search);
    for (const chunk of audio) await this.process(chunk);
    await call(this.lib.ps_end_utt, this.decoder.ps);
  }

  /** Distinct lattice paths, best first (pocketsphinx repeats a path once per segmentation). */
  async lattice(max: number): Promise<Reading[]> {
    const { lib } = this;
    const paths = new Map<string, number>();
    let nb = await call(lib.ps_nbest, this.decoder.ps);
    for (let i = 0; nb && i < max; i++) {
      const score = [0];
      const text = lib.ps_nbest_hyp(nb, score)?.trim().replace(/\s+/g, " ");
      if (text && (!paths.has(text) || paths.get(text)! < score[0])) paths.set(text, score[0]);
      nb = lib.ps_nbest_next(nb);
    }
    if (nb) lib.ps_nbest_free(nb);
    return [...paths].map(([text, score]) => ({ text, score })).sort((a, b) => b.score - a.score);
  }

  /** Acoustic score of the best path and the frames it covers (its language-model part left out). */
  acoustics(): { score: number; frames: number } {
    const { lib } = this;
    let score = 0;
    let frames = 0;
    for (let seg = lib.ps_seg_iter(this.decoder.ps); seg; seg = lib.ps_seg_next(seg)) {
      const ascr = [0];
      lib.ps_seg_prob(seg, ascr, [0], [0]);
      const sf = [0];
      const ef = [0];
      lib.ps_seg_frames(seg, sf, ef);
      score += ascr[0];
      frames = Math.max(frames, ef[0] + 1);
    }
    return { score, frames };
  }

  words(): { word: string; start: number; end: number }[] {
    const { lib } = this;
    const words: { word: string; start: number; end: number }[] = [];
    for (let seg = lib.ps_seg_iter(this.decoder.ps); seg; seg = lib.ps_seg_next(seg)) {
      const word = lib.ps_seg_word(seg);
      if (!word || /^(<.*>|\[.*\]|\(NULL\))$/.test(word)) continue; // silence, noise fillers, the grammar's null transitions
      const sf = [0];
      const ef = [0];
      lib.ps_seg_frames(seg, sf, ef);
      words.push({ word: word.replace(/\(\d+\)$/, ""), start: Math.max(0, sf[0]) / FRAME_RATE, end: (Math.max(sf[0], ef[0]) + 1) / FRAME_RATE });
    }
    return words;
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    freeDecoder(this.lib, this.decoder);
  }
}


/** Posterior-like shares of lattice paths: softmax of their scores on the acoustic scale. */
function shares(paths: Reading[]): Map<string, number> {
  const top = Math.max(...paths.map((p) => p.score));
  const w = paths.map((p) => Math.exp((p.score - top) * SCORE_TO_NATS));
  const z = w.reduce((a, b) => a + b, 0);
  return new Map(paths.map((p, i) => [p.text, w[i] / z]));
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * A `Recognizer` over libpocketsphinx: one long-lived decoder restricted to the intent grammar
 * (plus, for large grammars, a second one for alternatives), explicit utterance boundaries,
 * partial transcripts while audio arrives, n-best with confidences and word times at the end.
 */
export class PocketsphinxRecognizer implements Recognizer {
  readonly name = ENGINE;
  readonly locale: string;
  readonly grammar: GrammarInfo;
  private readonly lib: PsLib;
  private readonly jsgf: JsgfGrammar;
  private readonly nbest: number;
  private readonly redecodeFirst: boolean;
  /** Shared by the recognizer's utterances: one generator, so a session's audio is reproducible. */
  readonly floor: NoiseFloor;
  private main: Channel | null = null;
  private alt: Channel | null = null;
  /** A free phone loop over the same audio: the yardstick for rejecting speech outside the grammar. */
  private phones: Channel | null = null;
  private readonly rejectBelow: number;
  /** Per-frame acoustic score of the last utterance's grammar path against the free phone loop's (0 = as good). */
  lastFit: number | null = null;
  private open: PsUtterance | null = null;
  private utterances = 0;
  /** Per answer set (FSG mode), by context key, once prepared: what counts as a whole answer, and its own search if it got one. */
  private readonly answerSets = new Map<string, { search?: string; complete: (text: string) => boolean }>();
  /** What counts as a whole request in the open utterance (its context's sentences, else the grammar's). */
  private completeNow: (text: string) => boolean = (text) => this.jsgf.accepts(text);

  constructor(options: PocketsphinxOptions) {
    const started = Date.now();
    this.locale = options.domain.locale;
    this.nbest = Math.max(1, options.nbest ?? 5);
    this.redecodeFirst = options.redecodeFirst ?? true;
    this.floor = new NoiseFloor(options.noiseFloor ?? NOISE_FLOOR_RMS);
    const { hmm, dict } = modelFiles(this.locale, options);
    this.rejectBelow = options.rejectBelow === false ? -Infinity : options.rejectBelow ?? (enrollmentInfo(hmm) ? REJECT_BELOW_ADAPTED : REJECT_BELOW);
    this.lib = loadPocketsphinx(ENGINE);
    if (!existsSync(hmm)) throw new RecognizerUnavailable(ENGINE, `acoustic model directory not found: ${hmm} — ${INSTALL_HINT}, or set TALKCART_POCKETSPHINX_MODEL`);
    if (!existsSync(dict)) throw new RecognizerUnavailable(ENGINE, `pronouncing dictionary not found: ${dict} — ${INSTALL_HINT}, or set TALKCART_POCKETSPHINX_DICT`);

    const { jsgf, dictionary: smallDict } = grammarWithDictionary(options.domain, dict, options.jsgf);
    this.jsgf = jsgf;
    const inlinedWords = inlinedSize(this.jsgf.rules);
    const requested = options.grammarMode ?? "auto";
    const mode: GrammarMode = requested === "auto" ? (inlinedWords <= JSGF_INLINE_LIMIT ? "jsgf" : "fsg") : requested;
    const alternatives = options.alternatives ?? (mode === "fsg" ? "none" : "lattice");
    this.grammar = { mode, alternatives, words: this.jsgf.words.length, missing: this.jsgf.missing, added: this.jsgf.added, inlinedWords, loadMs: 0, answerSets: [] };

    const modeFlags = mode === "lm" ? ALTERNATIVES_FLAGS : mode === "jsgf" ? { ...RECOGNITION_FLAGS, ...SMALL_GRAMMAR_FLAGS } : RECOGNITION_FLAGS;
    try {
      withScratchFile("grammar.dict", smallDict, (dictPath) => {
        const base = { "-hmm": hmm, "-dict": dictPath };
        this.main = new Channel(this.lib, createDecoder(this.lib, ENGINE, { ...base, ...modeFlags, ...options.flags }));
        this.load(this.main, mode, options);
        if (alternatives === "lm" && mode !== "lm") {
          this.alt = new Channel(this.lib, createDecoder(this.lib, ENGINE, { ...base, ...ALTERNATIVES_FLAGS }));
          this.load(this.alt, "lm", options);
        }
        if (this.rejectBelow > -Infinity) {
          this.phones = new Channel(this.lib, createDecoder(this.lib, ENGINE, { ...base, ...PHONE_LOOP_FLAGS }));
          const ps = this.phones.decoder.ps;
          const offset = logSize();
          if (this.lib.ps_set_allphone_file(ps, "phones", null) < 0 || this.lib.ps_set_search(ps, "phones") < 0) {
            throw new RecognizerUnavailable(ENGINE, `the phone loop did not load: ${logSince(offset) || "no reason given"}`);
          }
          this.phones.search = "phones";
        }
      });
    } catch (e) {
      void this.close();
      throw e;
    }
    this.grammar.loadMs = Date.now() - started;
    if (mode === "fsg") this.prepareContexts(options.domain.contexts ?? [], options.domain.exclusiveContexts ?? [], options);
  }

  /**
   * Loads one more FSG search per answer set, in the background on the decoder's queue: the
   * grammar of just those intents. Until one is ready, utterances in that context use the whole
   * grammar (nothing waits for it). Only small answer sets and the secret ones get one (see
   * CONTEXT_SEARCH_MAX_SHARE). What counts as a whole answer is known for every set at once.
   */
  private prepareContexts(contexts: readonly (readonly string[])[], exclusive: readonly (readonly string[])[], options: PocketsphinxOptions) {
    const main = this.main!;
    const secret = new Set(exclusive.map(contextKey));
    const queued = new Set<string>();
    for (const [i, intents] of contexts.entries()) {
      const key = contextKey(intents);
      if (!key || queued.has(key)) continue;
      queued.add(key);
      const wanted = new Set(intents.map((i) => `i_${i}`)); // intent rules are i_<Intent> (jsgf.ts)
      const structure = { ...this.jsgf.structure, intents: this.jsgf.structure.intents.filter((i) => wanted.has(i)) };
      if (structure.intents.length === 0) continue;
      // Every set knows its whole answers (a pause after "four" must not end a PIN), searched apart or not.
      const answers: { search?: string; complete: (text: string) => boolean } = { complete: acceptorAmong(this.jsgf, structure.intents) };
      this.answerSets.set(key, answers);
      const name = `context${i}`;
      void main.run(async () => {
        if (main.closed) return;
        await new Promise((r) => setImmediate(r)); // let a waiting utterance go first
        const fsg = compileFsg({ rules: this.jsgf.rules, structure }, options.fsg);
        const set = { intents: [...intents], arcs: fsg.arcs, searched: false };
        this.grammar.answerSets.push(set);
        // A secret's answers are always searched apart: nothing else may be heard at the PIN prompt.
        if (!secret.has(key) && fsg.arcs > CONTEXT_SEARCH_MAX_SHARE * (this.grammar.fsg?.arcs ?? 0)) return;
        const model = await withScratchFile(`${name}.fsg`, fsg.text, (file) => call(this.lib.fsg_model_readfile, file, this.lib.ps_get_logmath(main.decoder.ps), languageWeight(options)));
        if (!model) return;
        const ok = (await call(this.lib.ps_set_fsg, main.decoder.ps, name, model)) >= 0;
        this.lib.fsg_model_free(model);
        // ps_set_fsg makes the new search current: switch back before anything else runs.
        this.lib.ps_set_search(main.decoder.ps, main.search);
        if (ok) answers.search = name;
        set.searched = ok;
      }).catch(() => undefined); // a context that fails to load leaves the plain grammar in use
    }
  }

  /** Resolves once every context search has been loaded (for tests and benchmarks). */
  async ready(): Promise<void> {
    await this.main?.run(() => undefined);
  }

  private load(channel: Channel, mode: GrammarMode, options: PocketsphinxOptions) {
    const { lib } = this;
    const ps = channel.decoder.ps;
    const offset = logSize();
    let ok: boolean;
    if (mode === "jsgf") {
      ok = lib.ps_set_jsgf_string(ps, "grammar", this.jsgf.text) >= 0;
    } else if (mode === "lm") {
      const arpa = trigramArpa(sampleSentences(this.jsgf.rules, "command", 40_000), this.jsgf.words);
      ok = withScratchFile("grammar.arpa", arpa, (file) => lib.ps_set_lm_file(ps, "grammar", file)) >= 0;
    } else {
      const fsg = compileFsg(this.jsgf, options.fsg);
      this.grammar.fsg = { states: fsg.states, arcs: fsg.arcs, shared: fsg.shared };
      const model = withScratchFile("grammar.fsg", fsg.text, (file) => lib.fsg_model_readfile(file, lib.ps_get_logmath(ps), languageWeight(options)));
      ok = !!model && lib.ps_set_fsg(ps, "grammar", model) >= 0;
      if (model) lib.fsg_model_free(model); // the search keeps its own reference
    }
    if (!ok || lib.ps_set_search(ps, "grammar") < 0) {
      throw new RecognizerUnavailable(ENGINE, `the ${this.locale} grammar did not load (${mode}): ${logSince(offset) || "no reason given"}`);
    }
  }

  /** Words of the domain that had to be left out of the grammar. */
  get missingWords(): string[] {
    return this.jsgf.missing;
  }

  /** Whether a transcript is a sentence of the intent grammar. */
  accepts(text: string): boolean {
    return this.jsgf.accepts(text);
  }

  /** A partial transcript that is a whole sentence of what the open utterance listens for is a whole request. */
  complete(text: string): boolean {
    return text.trim() !== "" && this.completeNow(text);
  }

  begin(context?: RecognitionContext): Utterance {
    if (!this.main || this.main.closed) throw new Error("pocketsphinx: the recognizer is closed");
    if (this.open) throw new Error("pocketsphinx: an utterance is already open; end() it first");
    const ctx = context?.expect ? this.answerSets.get(contextKey(context.expect)) : undefined;
    // Only answers searched apart may be misheard answers of a new request: those are decoded again (see finish).
    const utt = new PsUtterance(this, this.utterances++ === 0 && this.redecodeFirst, ctx?.search ?? "grammar", !!ctx?.search && !context?.exclusive);
    // A secret's answers whose search is not loaded (yet, or at all): the whole grammar decodes, and only answers are kept.
    if (context?.exclusive && ctx && !ctx.search) utt.only = ctx.complete;
    this.open = utt;
    // At the PIN prompt "four" alone is no whole answer, even though it is a sentence of the grammar.
    this.completeNow = ctx?.complete ?? ((text) => this.jsgf.accepts(text));
    void this.main.run(() => this.main!.start(utt.search));
    if (this.alt) void this.alt.run(() => this.alt!.start());
    if (this.phones) void this.phones.run(() => this.phones!.start());
    return utt;
  }

  private channels(): Channel[] {
    return [this.main, this.alt, this.phones].filter((c): c is Channel => c !== null);
  }

  /** Queues a chunk on every decoder; resolves to the grammar decoder's partial hypothesis when asked for. */
  feed(pcm: Int16Array, wantPartial: boolean): Promise<string | undefined> {
    if (this.alt) void this.alt.run(() => this.alt!.process(pcm));
    if (this.phones) void this.phones.run(() => this.phones!.process(pcm));
    const main = this.main!;
    return main.run(async () => {
      await main.process(pcm);
      return wantPartial ? (await main.hypothesis())?.text ?? "" : undefined;
    });
  }

  async finish(utt: PsUtterance): Promise<Hypothesis[]> {
    try {
      const phones = this.phones;
      const main = this.main!;
      const [answer, others, free] = await Promise.all([
        main.run(() => this.endOn(main, utt, true)),
        this.alt ? this.alt.run(() => this.endOn(this.alt!, utt, false)) : Promise.resolve(null),
        phones ? phones.run(async () => { await this.end(phones, utt); return phones.acoustics(); }) : Promise.resolve(null),
      ]);
      this.lastFit = null;
      if (utt.silent()) return [];
      const fitOf = (r: typeof answer) => (r?.best && free && r.acoustics.frames > 0 ? (r.acoustics.score - free.score) / r.acoustics.frames : null);
      let best = answer;
      this.lastFit = fitOf(answer);
      // Only answers were listened for; one that fits badly may be a new request instead ("add tea"
      // at the quantity prompt): the whole grammar decodes it again, and wins if it fits clearly better.
      // (Audio that fits no answer at all is background: rejected below without a second decoding.)
      if (utt.recheck && this.lastFit !== null && this.lastFit < RECHECK_ANSWER_BELOW && this.lastFit >= this.rejectBelow) {
        const whole = await main.run(() => this.decodeAgainWholly(main, utt));
        const wholeFit = fitOf(whole);
        if (wholeFit !== null && wholeFit > this.lastFit + WHOLE_GRAMMAR_MARGIN) {
          best = whole;
          this.lastFit = wholeFit;
        }
      }
      if (this.lastFit !== null && this.lastFit < this.rejectBelow) return [];
      const hyps = this.merge(best, others?.paths ?? []).filter((h) => !utt.only || utt.only(h.text));
      // The phone loop's verdict caps every reading's confidence (the list stays sorted).
      if (this.lastFit !== null) for (const h of hyps) h.confidence = round(Math.min(h.confidence, fitConfidence(this.lastFit)));
      return hyps;
    } finally {
      this.open = null;
    }
  }

  /** The utterance decoded again with the whole grammar; null when the recognizer closed meanwhile or the decoder failed (the answer stands). */
  private async decodeAgainWholly(main: Channel, utt: PsUtterance) {
    if (main.closed) return null;
    try {
      await main.redo(utt.audio, "grammar");
      return await this.readBest(main, true);
    } catch {
      await call(this.lib.ps_end_utt, main.decoder.ps).catch(() => undefined); // leave no utterance open
      return null;
    }
  }

  /** Ends the utterance on one decoder; the first one is decoded again once the cepstral mean has adapted. */
  private async end(c: Channel, utt: PsUtterance) {
    await call(c.lib.ps_end_utt, c.decoder.ps);
    if (utt.first && utt.seconds() > 0.3) await c.redo(utt.audio);
  }

  /** Ends the utterance on one decoder; reads its best hypothesis, word times and (when wanted) lattice paths. */
  private async endOn(c: Channel, utt: PsUtterance, primary: boolean) {
    await this.end(c, utt);
    if (utt.silent()) return null;
    return this.readBest(c, primary);
  }

  /** The decoded utterance's best hypothesis, its word times and acoustic score, and (when wanted) lattice paths. */
  private async readBest(c: Channel, primary: boolean) {
    const best = await c.hypothesis();
    const words = primary && best ? c.words() : [];
    const acoustics = primary && best ? c.acoustics() : { score: 0, frames: 0 };
    const wantLattice = primary ? this.grammar.alternatives === "lattice" : true;
    const paths = best && wantLattice ? await c.lattice(LATTICE_PATHS) : [];
    return { best, words, paths, acoustics };
  }

  /**
   * The grammar search's best hypothesis first; then the distinct alternatives, those the grammar
   * accepts before those it does not. Confidences are shares of the alternatives' lattice scores;
   * the grammar's hypothesis gets the best share (it is what the search chose).
   */
  private merge(main: { best: Reading | null; words: Hypothesis["words"]; paths: Reading[] } | null, others: Reading[]): Hypothesis[] {
    const paths = [...(main?.paths ?? []), ...others];
    const share = paths.length ? shares(paths) : new Map<string, number>();
    const top = Math.max(0, ...share.values());
    const out: Hypothesis[] = [];
    const best = main?.best;
    if (best) out.push({ text: best.text, confidence: round(share.size ? Math.max(top, share.get(best.text) ?? 0) : 1), words: main.words });
    const rest = [...share]
      .filter(([text]) => text !== best?.text)
      .map(([text, p]) => ({ text, p, ok: this.jsgf.accepts(text) }))
      // A grammar lattice merges grammar states: its paths outside the grammar are artefacts
      // ("what's in"); an n-gram model's are real readings the NLU may still understand.
      .filter((r) => r.ok || this.grammar.alternatives === "lm")
      .sort((a, b) => Number(b.ok) - Number(a.ok) || b.p - a.p);
    for (const r of rest) {
      if (out.length >= this.nbest) break;
      // Keep the list sorted by confidence: a reading the grammar rejects never outranks one it accepts.
      const ceiling = out.length ? out[out.length - 1].confidence : 1;
      out.push({ text: r.text, confidence: round(Math.min(r.ok ? r.p : r.p * 0.5, ceiling)) });
    }
    return out;
  }

  async close(): Promise<void> {
    const channels = this.channels();
    this.main = null;
    this.alt = null;
    await Promise.all(channels.map((c) => c.close()));
  }
}

class PsUtterance implements Utterance {
  /** What went to the decoder (for a second decoding). */
  readonly audio: Int16Array[] = [];
  private sinceHyp = 0;
  private peakRms = 0;
  private text = "";
  private ended = false;

  /**
   * @param search "grammar", or the search of an open question's answers
   * @param recheck whether a poorly fitting answer may be decoded again with the whole grammar
   */
  constructor(private readonly rec: PocketsphinxRecognizer, readonly first: boolean, readonly search: string, readonly recheck: boolean) {}

  /** When set, only readings it accepts are returned (a secret's answers heard through the whole grammar). */
  only?: (text: string) => boolean;

  write(pcm: Pcm): void {
    if (this.ended) throw new Error("pocketsphinx: write() after end()");
    if (pcm.length === 0) return;
    for (let i = 0; i + 320 <= pcm.length; i += 320) {
      let sum = 0;
      for (let j = i; j < i + 320; j++) sum += pcm[j] * pcm[j];
      this.peakRms = Math.max(this.peakRms, Math.sqrt(sum / 320));
    }
    // A copy (the caller may reuse its buffer) with a microphone's noise floor: see noise-floor.ts.
    // (Not trimmed: on our fixtures cutting the quiet edges cost 4 of 24 exact transcripts.)
    const chunk = this.rec.floor.apply(pcm.slice());
    this.audio.push(chunk);
    // A partial transcript every ~200 ms of audio (a backtrace per chunk would cost more than it shows).
    this.sinceHyp += chunk.length;
    const wantPartial = this.sinceHyp >= SAMPLE_RATE / 5;
    if (wantPartial) this.sinceHyp = 0;
    this.rec.feed(chunk, wantPartial).then((hyp) => {
      if (hyp !== undefined && !this.ended) this.text = hyp;
    }, () => undefined);
  }

  partial(): string {
    return this.text;
  }

  seconds(): number {
    return this.audio.reduce((n, c) => n + c.length, 0) / SAMPLE_RATE;
  }

  silent(): boolean {
    return this.peakRms < SILENCE_RMS;
  }

  end(): Promise<Hypothesis[]> {
    if (this.ended) return Promise.reject(new Error("pocketsphinx: end() called twice"));
    this.ended = true;
    return this.rec.finish(this);
  }
}

/** Creates a pocketsphinx recognizer for a domain; rejects with RecognizerUnavailable saying what is missing. */
export async function createPocketsphinxRecognizer(options: PocketsphinxOptions): Promise<PocketsphinxRecognizer> {
  return new PocketsphinxRecognizer(options);
}
