import { existsSync } from "node:fs";
import type { Pcm } from "../audio/types.js";
import { DEFAULT_DICT, DEFAULT_HMM, dictionaryText, generatePronunciations, loadDictionary } from "./jsgf.js";
import { createDecoder, freeDecoder, INSTALL_HINT, loadPocketsphinx, logSince, logSize, withScratchFile, type Decoder, type PsLib } from "./pocketsphinx-native.js";
import { NoiseFloor } from "./noise-floor.js";
import { RecognizerUnavailable } from "./types.js";

/**
 * Wake word by keyword spotting (pocketsphinx's keyphrase search) on one distinct word.
 *
 * Measured here (`../shared/notes/speech-measurements.md`): "computer" at threshold 1e-40 was found
 * 12/12 times with no false alarm in 9 minutes of other commands; multi-word phrases ("hey talk
 * cart") were never found at any threshold, so only single words are accepted.
 */

const ENGINE = "pocketsphinx wake word";
const SAMPLE_RATE = 16_000;

export interface WakeWordOptions {
  /** The wake word: one word the dictionary (or espeak-ng) can pronounce (default "computer"). */
  word?: string;
  /** Keyword spotting threshold (default 1e-40): lower finds more, with more false alarms. */
  threshold?: number;
  hmm?: string;
  dict?: string;
  /** Detections shorter than this many seconds per phone of the word are dropped (default 0.045). */
  minPhoneSeconds?: number;
  /** Further decoder flags ("-kws_plp", "-kws_delay", ...). */
  flags?: Record<string, string>;
  /** The spotter restarts its search after this many seconds without the word, to bound its memory (default 20). */
  restartAfter?: number;
}

export interface WakeWordDetection {
  word: string;
  /** Seconds from the start of the audio written to the spotter (the end of the word). */
  time: number;
}

export const DEFAULT_WAKE_WORD = "computer";
export const DEFAULT_WAKE_THRESHOLD = 1e-40;
/**
 * A spotted word must last at least 45 ms per phone. Measured on the 35 real recordings fed as one
 * stream: the one false alarm at 1e-40 ("computer" in 10 s of unrelated speech) lasted 0.32 s;
 * the 17 true detections (4 espeak-ng voices) lasted 0.50–0.63 s. Stricter thresholds instead lost
 * half of the true detections before the false alarm went (1e-32: 9/20).
 */
export const MIN_PHONE_SECONDS = 0.045;

/** Consumes PCM chunks (16 kHz mono s16) and reports each time the wake word is heard. */
export class WakeWordSpotter {
  readonly word: string;
  private readonly lib: PsLib;
  private decoder: Decoder | null;
  private samples = 0;
  private uttStart = 0;
  private readonly restartAfter: number;
  private readonly floor = new NoiseFloor();
  /** Shorter than this (seconds) is not the word: 45 ms per phone (see MIN_PHONE_SECONDS). */
  readonly minSeconds: number;

  constructor(options: WakeWordOptions = {}) {
    const word = (options.word ?? DEFAULT_WAKE_WORD).trim().toLowerCase();
    if (!word || /\s/.test(word)) {
      throw new RecognizerUnavailable(ENGINE, `the wake word must be one distinct word ("computer"), not "${options.word}": multi-word phrases are never spotted reliably`);
    }
    this.word = word;
    this.restartAfter = options.restartAfter ?? 20;
    const hmm = options.hmm ?? process.env.TALKCART_POCKETSPHINX_MODEL ?? DEFAULT_HMM;
    const dictPath = options.dict ?? process.env.TALKCART_POCKETSPHINX_DICT ?? DEFAULT_DICT;
    this.lib = loadPocketsphinx(ENGINE);
    if (!existsSync(hmm)) throw new RecognizerUnavailable(ENGINE, `acoustic model directory not found: ${hmm} — ${INSTALL_HINT}`);
    if (!existsSync(dictPath)) throw new RecognizerUnavailable(ENGINE, `pronouncing dictionary not found: ${dictPath} — ${INSTALL_HINT}`);

    const dictionary = loadDictionary(dictPath);
    const added = dictionary.has(word) ? new Map<string, string>() : generatePronunciations([word], dictionary);
    if (!dictionary.has(word) && !added.has(word)) {
      throw new RecognizerUnavailable(ENGINE, `no pronunciation for the wake word "${word}": not in ${dictPath}, and espeak-ng could not spell it out`);
    }
    const phones = (dictionary.phones(word) ?? added.get(word)!).split(" ").length;
    this.minSeconds = phones * (options.minPhoneSeconds ?? MIN_PHONE_SECONDS);
    this.decoder = withScratchFile("wake.dict", dictionaryText([word], dictionary, added), (dict) =>
      createDecoder(this.lib, ENGINE, { "-hmm": hmm, "-dict": dict, "-kws_threshold": String(options.threshold ?? DEFAULT_WAKE_THRESHOLD), ...options.flags }));
    const offset = logSize();
    if (this.lib.ps_set_keyphrase(this.decoder.ps, "wake", word) < 0 || this.lib.ps_set_search(this.decoder.ps, "wake") < 0) {
      const reason = logSince(offset);
      freeDecoder(this.lib, this.decoder);
      this.decoder = null;
      throw new RecognizerUnavailable(ENGINE, `keyword search for "${word}" did not start: ${reason || "no reason given"}`);
    }
    this.lib.ps_start_utt(this.decoder.ps);
  }

  /** Feeds audio; returns the detections it completed (usually none). */
  write(pcm: Pcm): WakeWordDetection[] {
    if (!this.decoder) throw new Error("wake word: the spotter is closed");
    const found: WakeWordDetection[] = [];
    const { lib } = this;
    const ps = this.decoder.ps;
    // Chunks of at most 100 ms, so that two words in one long chunk are two detections; each with
    // a microphone's noise floor (digital silence throws off the running cepstral mean: noise-floor.ts).
    for (let at = 0; at < pcm.length; at += SAMPLE_RATE / 10) {
      const chunk = this.floor.apply(pcm.slice(at, Math.min(pcm.length, at + SAMPLE_RATE / 10)));
      lib.ps_process_raw(ps, chunk, chunk.length, 0, 0);
      this.samples += chunk.length;
      const hyp = lib.ps_get_hyp(ps, [0]);
      if (hyp && hyp.trim()) {
        if (this.spoken() >= this.minSeconds) found.push({ word: this.word, time: this.samples / SAMPLE_RATE });
        this.restart();
        continue;
      }
      if ((this.samples - this.uttStart) / SAMPLE_RATE > this.restartAfter && !lib.ps_get_in_speech(ps)) {
        this.restart();
      }
    }
    return found;
  }

  /** Forgets what was heard so far (after a detection this happens by itself). */
  reset(): void {
    if (this.decoder) this.restart();
  }

  /** How long the spotted word took (seconds), from the keyword search's segment. */
  private spoken(): number {
    const { lib } = this;
    let seconds = 0;
    for (let seg = lib.ps_seg_iter(this.decoder!.ps); seg; seg = lib.ps_seg_next(seg)) {
      const sf = [0];
      const ef = [0];
      lib.ps_seg_frames(seg, sf, ef);
      seconds = Math.max(seconds, (ef[0] - sf[0] + 1) / 100);
    }
    return seconds;
  }

  private restart() {
    const ps = this.decoder!.ps;
    this.lib.ps_end_utt(ps);
    this.lib.ps_start_utt(ps);
    this.uttStart = this.samples;
  }

  async close(): Promise<void> {
    if (!this.decoder) return;
    this.lib.ps_end_utt(this.decoder.ps);
    freeDecoder(this.lib, this.decoder);
    this.decoder = null;
  }
}

export function createWakeWordSpotter(options: WakeWordOptions = {}): WakeWordSpotter {
  return new WakeWordSpotter(options);
}
