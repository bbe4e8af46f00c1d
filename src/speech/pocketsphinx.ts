import { existsSync } from "node:fs";
import type { Pcm } from "../audio/types.js";
import { buildJsgf, DEFAULT_DICT, DEFAULT_HMM, inlinedSize, loadDictionary, type JsgfGrammar, type JsgfOptions } from "./jsgf.js";
import { compileFsg } from "./jsgf-fsg.js";
import {
  call, createDecoder, freeDecoder, INSTALL_HINT, loadPocketsphinx, logSince, logSize, writeScratch,
  type Decoder, type PsLib,
} from "./pocketsphinx-native.js";
import { RecognizerUnavailable, type Hypothesis, type RecognitionDomain, type Recognizer, type Utterance } from "./types.js";

const ENGINE = "pocketsphinx";
const FRAME_RATE = 100; // pocketsphinx frames per second (-frate default)

/**
 * Decoder flags that won on real speakers (`../shared/notes/speech-measurements.md`): the
 * utterance comes cut by our VAD and is decoded as one piece (no built-in silence removal), with
 * wide beams. `-bestpath no`: the final hypothesis is the grammar search's own backtrace (always a
 * sentence of the grammar); the lattice it would otherwise rescore is only built for the n-best.
 */
export const RECOGNITION_FLAGS: Record<string, string> = {
  "-remove_silence": "no",
  "-beam": "1e-80",
  "-pbeam": "1e-80",
  "-wbeam": "1e-60",
  "-bestpath": "no",
};

export interface PocketsphinxOptions {
  domain: RecognitionDomain;
  /** Acoustic model directory (default `TALKCART_POCKETSPHINX_MODEL` or the Debian en-us model). */
  hmm?: string;
  /** Pronouncing dictionary (default `TALKCART_POCKETSPHINX_DICT` or the Debian cmudict). */
  dict?: string;
  /** Decoder flags added to or replacing RECOGNITION_FLAGS ("-maxhmmpf": "3000", ...). */
  flags?: Record<string, string>;
  /** How many distinct alternatives end() returns at most (default 5). */
  nbest?: number;
  /**
   * How the grammar reaches the decoder: "jsgf" (`ps_set_jsgf_string`: sphinxbase inlines every
   * rule reference), "fsg" (our minimal automaton via `ps_set_fsg`), or "auto" (default): JSGF
   * while the inlined grammar stays small, else the FSG.
   */
  grammarMode?: "auto" | "jsgf" | "fsg";
  jsgf?: Omit<JsgfOptions, "dictionary">;
  /** Re-decode the first utterance once the cepstral mean has adapted to the voice and channel (default true). */
  redecodeFirst?: boolean;
}

/** Grammars whose inlined size (words) stays below this go to pocketsphinx as JSGF text. */
export const JSGF_INLINE_LIMIT = 4000;

export interface GrammarInfo {
  mode: "jsgf" | "fsg";
  words: number;
  /** Words left out: not in the dictionary and no pronunciation could be generated. */
  missing: string[];
  /** Words given generated pronunciations. */
  added: Map<string, string>;
  fsg?: { states: number; arcs: number; shared: string[] };
  loadMs: number;
}

/** The peak RMS of 20 ms frames below which an utterance counts as silence (about -56 dBFS). */
const SILENCE_RMS = 50;
/** Acoustic scale for turning path scores into posteriors (pocketsphinx's -ascale default). */
const ASCALE = 20;
/** Path scores are in log base 1.0001 units, shifted down by 10 bits (SENSCR_SHIFT). */
const SCORE_TO_NATS = (Math.log(1.0001) * 1024) / ASCALE;
/** At most this many lattice paths are read for the n-best (A* on a large grammar's lattice is costly). */
const MAX_PATHS = 40;

/** A `Recognizer` over libpocketsphinx with one long-lived decoder and an intent grammar. */
export class PocketsphinxRecognizer implements Recognizer {
  readonly name = ENGINE;
  readonly locale: string;
  readonly grammar: GrammarInfo;
  private readonly lib: PsLib;
  private decoder: Decoder | null;
  private readonly jsgf: JsgfGrammar;
  private readonly nbest: number;
  private readonly redecodeFirst: boolean;
  private queue: Promise<unknown> = Promise.resolve();
  private open: PsUtterance | null = null;
  private utterances = 0;

  constructor(options: PocketsphinxOptions) {
    this.locale = options.domain.locale;
    this.nbest = options.nbest ?? 5;
    this.redecodeFirst = options.redecodeFirst ?? true;
    const hmm = options.hmm ?? process.env.TALKCART_POCKETSPHINX_MODEL ?? DEFAULT_HMM;
    const dict = options.dict ?? process.env.TALKCART_POCKETSPHINX_DICT ?? DEFAULT_DICT;
    this.lib = loadPocketsphinx(ENGINE);
    if (!existsSync(dict)) throw new RecognizerUnavailable(ENGINE, `pronouncing dictionary not found: ${dict} — ${INSTALL_HINT}, or set TALKCART_POCKETSPHINX_DICT`);
    if (!existsSync(hmm)) throw new RecognizerUnavailable(ENGINE, `acoustic model directory not found: ${hmm} — ${INSTALL_HINT}, or set TALKCART_POCKETSPHINX_MODEL`);

    const started = Date.now();
    try {
      this.jsgf = buildJsgf(options.domain, { ...options.jsgf, dictionary: loadDictionary(dict) });
    } catch (e) {
      throw new RecognizerUnavailable(ENGINE, `no grammar for locale '${this.locale}': ${(e as Error).message}`);
    }
    this.decoder = createDecoder(this.lib, ENGINE, { "-hmm": hmm, "-dict": dict, ...RECOGNITION_FLAGS, ...options.flags });
    try {
      this.grammar = this.loadGrammar(options.grammarMode ?? "auto");
      this.grammar.loadMs = Date.now() - started;
    } catch (e) {
      freeDecoder(this.lib, this.decoder);
      this.decoder = null;
      throw e;
    }
  }

  private loadGrammar(requested: "auto" | "jsgf" | "fsg"): GrammarInfo {
    const { lib } = this;
    const ps = this.decoder!.ps;
    const offset = logSize();
    for (const [word, phones] of this.jsgf.added) {
      if (lib.ps_add_word(ps, word, phones, 0) < 0) {
        throw new RecognizerUnavailable(ENGINE, `could not add the word '${word}' /${phones}/: ${logSince(offset)}`);
      }
    }
    const mode = requested === "auto" ? (inlinedSize(this.jsgf.rules) <= JSGF_INLINE_LIMIT ? "jsgf" : "fsg") : requested;
    const info: GrammarInfo = { mode, words: this.jsgf.words.length, missing: this.jsgf.missing, added: this.jsgf.added, loadMs: 0 };
    let ok: boolean;
    if (mode === "jsgf") {
      ok = lib.ps_set_jsgf_string(ps, "grammar", this.jsgf.text) >= 0;
    } else {
      const fsg = compileFsg(this.jsgf.rules);
      info.fsg = { states: fsg.states, arcs: fsg.arcs, shared: fsg.shared };
      const model = lib.fsg_model_readfile(writeScratch(`grammar-${process.pid}-${Date.now()}.fsg`, fsg.text), lib.ps_get_logmath(ps), 6.5);
      ok = !!model && lib.ps_set_fsg(ps, "grammar", model) >= 0;
      if (model) lib.fsg_model_free(model);
    }
    if (!ok || lib.ps_set_search(ps, "grammar") < 0) {
      throw new RecognizerUnavailable(ENGINE, `the ${this.locale} grammar did not load (${mode}): ${logSince(offset) || "no reason given"}`);
    }
    return info;
  }

  /** Words of the domain that had to be left out of the grammar. */
  get missingWords(): string[] {
    return this.jsgf.missing;
  }

  /** Whether a transcript is a sentence of the intent grammar. */
  accepts(text: string): boolean {
    return this.jsgf.accepts(text);
  }

  begin(): Utterance {
    if (!this.decoder) throw new Error("pocketsphinx: the recognizer is closed");
    if (this.open) throw new Error("pocketsphinx: an utterance is already open; end() it first");
    const first = this.utterances++ === 0 && this.redecodeFirst;
    const utt = new PsUtterance(this, first);
    this.open = utt;
    this.run(() => this.start());
    return utt;
  }

  /** Serialises every native call on the decoder (they run on koffi's worker threads). */
  run<T>(op: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async start() {
    const ps = this.decoder!.ps;
    // A new stream per utterance only restarts frame numbering (word times count from 0); the
    // cepstral mean carries over from utterance to utterance.
    this.lib.ps_start_stream(ps);
    if (this.lib.ps_start_utt(ps) < 0) throw new Error(`pocketsphinx: ps_start_utt failed: ${logSince(0)}`);
  }

  async process(pcm: Int16Array, wantPartial: boolean): Promise<string | undefined> {
    const ps = this.decoder!.ps;
    await call(this.lib.ps_process_raw, ps, pcm, pcm.length, 0, 0);
    if (!wantPartial) return undefined;
    return (await call(this.lib.ps_get_hyp, ps, [0])) ?? "";
  }

  async finish(utt: PsUtterance): Promise<Hypothesis[]> {
    const { lib } = this;
    const ps = this.decoder!.ps;
    try {
      await call(lib.ps_end_utt, ps);
      if (utt.first && utt.seconds() > 0.3) {
        // The first utterance was decoded with the model's stored cepstral mean; now that the
        // mean has adapted to this voice and channel, decode it again.
        await this.start();
        for (const chunk of utt.audio) await call(lib.ps_process_raw, ps, chunk, chunk.length, 0, 0);
        await call(lib.ps_end_utt, ps);
      }
      if (utt.silent()) return [];
      return await this.results();
    } finally {
      this.open = null;
    }
  }

  private async results(): Promise<Hypothesis[]> {
    const { lib } = this;
    const ps = this.decoder!.ps;
    const score = [0];
    const best = await call(lib.ps_get_hyp, ps, score);
    if (!best || !best.trim()) return [];
    const words = this.segments();

    // Lattice paths: dedupe, keep what the grammar accepts, and use all of them to judge how
    // clearly the best one won.
    const paths = new Map<string, number>();
    paths.set(best, score[0]);
    let nb = await call(lib.ps_nbest, ps);
    for (let i = 0; nb && i < MAX_PATHS; i++) {
      const s = [0];
      const text = lib.ps_nbest_hyp(nb, s);
      if (text && text.trim()) {
        const t = text.trim().replace(/\s+/g, " ");
        if (!paths.has(t) || paths.get(t)! < s[0]) if (t !== best) paths.set(t, s[0]);
      }
      nb = await call(lib.ps_nbest_next, nb);
    }
    if (nb) lib.ps_nbest_free(nb);

    // Scores of lattice paths and of the search's own best path are not on one scale: the best
    // path takes the top score, the others keep their distance from the best lattice path.
    const latticeBest = Math.max(...[...paths].filter(([t]) => t !== best).map(([, s]) => s), -Infinity);
    const rel = [...paths].map(([text, s]) => ({ text, rel: text === best ? 0 : Math.min(0, s - latticeBest) }));
    const z = rel.reduce((sum, r) => sum + Math.exp(r.rel * SCORE_TO_NATS), 0);
    const hyps = rel.map((r) => ({ text: r.text, confidence: Math.exp(r.rel * SCORE_TO_NATS) / z, grammatical: this.jsgf.accepts(r.text) }));
    hyps.sort((a, b) => Number(b.grammatical) - Number(a.grammatical) || b.confidence - a.confidence);
    const out: Hypothesis[] = hyps.filter((h) => h.grammatical).slice(0, this.nbest).map(({ text, confidence }) => ({ text, confidence: round(confidence) }));
    if (out.length === 0) return [{ text: best, confidence: round(hyps.find((h) => h.text === best)!.confidence * 0.5), words }];
    const top = out.find((h) => h.text === best);
    if (top) top.words = words;
    return out.sort((a, b) => b.confidence - a.confidence);
  }

  private segments(): { word: string; start: number; end: number }[] {
    const { lib } = this;
    const words: { word: string; start: number; end: number }[] = [];
    for (let seg = lib.ps_seg_iter(this.decoder!.ps); seg; seg = lib.ps_seg_next(seg)) {
      const word = lib.ps_seg_word(seg);
      if (!word || /^(<.*>|\[.*\])$/.test(word)) continue;
      const sf = [0];
      const ef = [0];
      lib.ps_seg_frames(seg, sf, ef);
      words.push({ word: word.replace(/\(\d+\)$/, ""), start: sf[0] / FRAME_RATE, end: (ef[0] + 1) / FRAME_RATE });
    }
    return words;
  }

  async close(): Promise<void> {
    if (!this.decoder) return;
    const d = this.decoder;
    this.decoder = null;
    await this.queue;
    freeDecoder(this.lib, d);
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

class PsUtterance implements Utterance {
  readonly audio: Int16Array[] = [];
  private samples = 0;
  private sinceHyp = 0;
  private peakRms = 0;
  private text = "";
  private ended = false;

  constructor(private readonly rec: PocketsphinxRecognizer, readonly first: boolean) {}

  write(pcm: Pcm): void {
    if (this.ended) throw new Error("pocketsphinx: write() after end()");
    if (pcm.length === 0) return;
    const chunk = pcm.slice(); // the caller may reuse its buffer
    this.audio.push(chunk);
    this.samples += chunk.length;
    this.sinceHyp += chunk.length;
    for (let i = 0; i + 320 <= chunk.length; i += 320) {
      let sum = 0;
      for (let j = i; j < i + 320; j++) sum += chunk[j] * chunk[j];
      this.peakRms = Math.max(this.peakRms, Math.sqrt(sum / 320));
    }
    // A partial transcript every ~200 ms of audio (a backtrace per chunk would cost more than it shows).
    const wantPartial = this.sinceHyp >= 3200;
    if (wantPartial) this.sinceHyp = 0;
    void this.rec.run(() => this.rec.process(chunk, wantPartial)).then((hyp) => {
      if (hyp !== undefined && !this.ended) this.text = hyp;
    }, () => undefined);
  }

  partial(): string {
    return this.text;
  }

  seconds(): number {
    return this.samples / 16_000;
  }

  silent(): boolean {
    return this.peakRms < SILENCE_RMS;
  }

  end(): Promise<Hypothesis[]> {
    if (this.ended) return Promise.reject(new Error("pocketsphinx: end() called twice"));
    this.ended = true;
    return this.rec.run(() => this.rec.finish(this));
  }
}

/** Creates a pocketsphinx recognizer for a domain; rejects with RecognizerUnavailable saying what is missing. */
export async function createPocketsphinxRecognizer(options: PocketsphinxOptions): Promise<PocketsphinxRecognizer> {
  return new PocketsphinxRecognizer(options);
}
