/**
 * Utterance endpointing: finds where a spoken command starts and ends in a stream of 16 kHz PCM, with
 * the WebRTC VAD deciding speech / non-speech per 20 ms frame.
 *
 * Why our own cut instead of the recognizer's: measured on real speakers, pocketsphinx's built-in
 * silence removal split 46% of commands into pieces and accepted 59% of them; cutting with a VAD and
 * decoding each cut as one piece accepted 96.8% (shared/notes/speech-measurements.md).
 * Why mode 3: the less aggressive WebRTC modes called 27 s of white noise speech; mode 3 had no false
 * alarm there and found 120/120 utterances, start -10 ms, end +100 ms, at 0.2 ms CPU per second.
 */
import { createRequire } from "node:module";
import { SAMPLE_RATE, type AudioSource, type Pcm } from "./types.js";

// webrtcvad is CommonJS with an `exports.default` class; `require` gives the same object under Node
// and under vitest (an ESM default import does not: Node wraps it once more).
type VadClass = typeof import("webrtcvad").default;
const require = createRequire(import.meta.url);
const Vad: VadClass = (require("webrtcvad") as { default: VadClass }).default;

export interface EndpointerOptions {
  /** WebRTC VAD aggressiveness 0–3 (default 3: lower modes flag noise as speech). */
  vadMode?: 0 | 1 | 2 | 3;
  /** VAD frame length: 10, 20 or 30 ms (default 20). All other durations are rounded to frames. */
  frameMs?: 10 | 20 | 30;
  /** Audio kept before the detected start, so the recognizer hears the onset whole (default 200 ms). */
  preRollMs?: number;
  /** Audio kept after the last speech frame (default 200 ms; at most what trailing silence has seen). */
  postRollMs?: number;
  /** Non-speech after speech that ends the utterance (default 600 ms). */
  trailingSilenceMs?: number;
  /**
   * Shorter trailing silence that ends the utterance when `complete()` (set on the endpointer)
   * says what was heard so far is a whole request (default 250 ms): a finished command gets its
   * answer sooner, while a pause inside one ("add two packs of ... coffee") still waits the full time.
   */
  completeSilenceMs?: number;
  /** Speech needed within `startWindowMs` to declare a start: a click or a breath is shorter (default 60 ms). */
  minSpeechMs?: number;
  /** Window for `minSpeechMs` (default 100 ms). */
  startWindowMs?: number;
  /**
   * Speech must span this long (first to last speech frame) to count; shorter bursts are dropped
   * without any event, and speech-start is reported only once speech has lasted this long (default
   * 150 ms). Measured: clicks at the ends of the real recordings span 80–140 ms; the shortest
   * spoken word here ("two"/"stop" at 250 wpm) spans 240 ms.
   */
  minUtteranceMs?: number;
  /** Longest utterance; longer speech is cut and reported as "too-long" (default 10 000 ms). */
  maxUtteranceMs?: number;
  /** Report "no-input" when no speech starts within this long after listening starts (default: never). */
  noInputMs?: number;
  /**
   * VAD decisions ignored at the very start of the stream (default 100 ms): the VAD has not adapted
   * to the noise floor yet (measured: the first 60–80 ms of white noise come out as speech).
   */
  warmupMs?: number;
}

/** Where an utterance is, in milliseconds since the first sample pushed. */
export interface UtteranceSpan {
  /** The utterance audio: `preRollMs` before `startMs` to `postRollMs` after `endMs` (as far as held). */
  pcm: Pcm;
  /** Start of the first speech frame. */
  startMs: number;
  /** End of the last speech frame. */
  endMs: number;
  /** Where `pcm` starts (`startMs` minus the pre-roll actually held). */
  pcmStartMs: number;
}

export type EndpointerEvent =
  /** Speech began (at `startMs`; noticed at `atMs`): barge-in stops playback here. */
  | { type: "speech-start"; startMs: number; atMs: number }
  | ({ type: "utterance" } & UtteranceSpan)
  /** Nobody spoke within `noInputMs` of listening starting: the dialogue reprompts. */
  | { type: "no-input"; atMs: number }
  /** Speech went on past `maxUtteranceMs`; what was heard is cut off here. */
  | ({ type: "too-long" } & UtteranceSpan);

export const ENDPOINTER_DEFAULTS = {
  vadMode: 3,
  frameMs: 20,
  preRollMs: 200,
  postRollMs: 200,
  trailingSilenceMs: 600,
  completeSilenceMs: 250,
  minSpeechMs: 60,
  startWindowMs: 100,
  minUtteranceMs: 150,
  maxUtteranceMs: 10_000,
  warmupMs: 100,
} as const;

/**
 * Push PCM chunks of any length; get events back. One instance follows one continuous stream (so the
 * VAD stays adapted to the room); call `startListening()` at the start of each turn to arm the
 * no-input timer.
 */
export class Endpointer {
  private readonly vad: InstanceType<VadClass>;
  private readonly frameSamples: number;
  private readonly frameMs: number;
  private readonly preRollFrames: number;
  private readonly postRollFrames: number;
  private readonly trailingFrames: number;
  private readonly completeFrames: number;
  /** Whether the speech so far is a whole request (see `completeSilenceMs`); null: always wait the full trailing silence. */
  complete: (() => boolean) | null = null;
  private readonly minSpeechFrames: number;
  private readonly windowFrames: number;
  private readonly minUtteranceFrames: number;
  private readonly maxFrames: number;
  private readonly warmupFrames: number;
  private readonly defaultNoInputMs: number | undefined;

  /** Frames processed so far; frame i covers [i * frameMs, (i + 1) * frameMs). */
  private frameIndex = 0;
  private partial: Int16Array;
  private partialFill = 0;
  /** Recent frames; history[0] is frame number historyStart. */
  private history: Int16Array[] = [];
  private historyStart = 0;
  /** VAD decisions of the last `windowFrames` frames while idle. */
  private window: boolean[] = [];

  /** Speech found (maybe only a click so far). */
  private inSpeech = false;
  /** Speech has lasted minUtteranceMs and speech-start was reported. */
  private confirmed = false;
  private speechStartFrame = 0;
  private lastSpeechFrame = 0;
  private silenceRun = 0;
  /** Frame number at which no-input fires; undefined when not armed. */
  private noInputDeadline: number | undefined;

  constructor(options: EndpointerOptions = {}) {
    const o = { ...ENDPOINTER_DEFAULTS, ...stripUndefined(options) };
    if (![10, 20, 30].includes(o.frameMs)) throw new RangeError(`frameMs must be 10, 20 or 30, not ${o.frameMs}`);
    if (![0, 1, 2, 3].includes(o.vadMode)) throw new RangeError(`vadMode must be 0-3, not ${o.vadMode}`);
    const frames = (ms: number) => Math.max(0, Math.round(ms / o.frameMs));
    this.vad = new Vad(SAMPLE_RATE, o.vadMode);
    this.frameMs = o.frameMs;
    this.frameSamples = (SAMPLE_RATE * o.frameMs) / 1000;
    this.preRollFrames = frames(o.preRollMs);
    this.postRollFrames = frames(o.postRollMs);
    this.trailingFrames = Math.max(1, frames(o.trailingSilenceMs));
    this.completeFrames = Math.min(this.trailingFrames, Math.max(1, frames(o.completeSilenceMs)));
    this.windowFrames = Math.max(1, frames(o.startWindowMs));
    this.minSpeechFrames = Math.min(this.windowFrames, Math.max(1, frames(o.minSpeechMs)));
    this.minUtteranceFrames = Math.max(1, frames(o.minUtteranceMs));
    this.maxFrames = Math.max(1, frames(o.maxUtteranceMs));
    this.warmupFrames = frames(o.warmupMs);
    this.defaultNoInputMs = options.noInputMs;
    this.partial = new Int16Array(this.frameSamples);
    this.startListening();
  }

  /** True from speech-start until the utterance ends: the caller's barge-in signal. */
  get speechActive(): boolean {
    return this.inSpeech && this.confirmed;
  }

  /** Milliseconds of audio processed (whole frames). */
  get positionMs(): number {
    return this.frameIndex * this.frameMs;
  }

  /**
   * Starts a listening period now: arms the no-input timer (`noInputMs`, else the constructor's; pass
   * Infinity to disarm). Speech already under way is kept: a barge-in is the answer, not a timeout.
   */
  startListening(noInputMs: number | undefined = this.defaultNoInputMs): void {
    this.noInputDeadline =
      noInputMs === undefined || !Number.isFinite(noInputMs) || this.speechActive
        ? undefined
        : this.frameIndex + Math.max(1, Math.round(noInputMs / this.frameMs));
  }

  /** Forgets speech under way (a wake word that was just heard is not the start of a turn). */
  restart(): void {
    this.toIdle();
    this.window = [];
  }

  /** Feeds audio; returns what happened in it, in order. */
  push(pcm: Pcm): EndpointerEvent[] {
    const events: EndpointerEvent[] = [];
    let at = 0;
    while (at < pcm.length) {
      const n = Math.min(this.frameSamples - this.partialFill, pcm.length - at);
      this.partial.set(pcm.subarray(at, at + n), this.partialFill);
      this.partialFill += n;
      at += n;
      if (this.partialFill === this.frameSamples) {
        const frame = this.partial;
        this.partial = new Int16Array(this.frameSamples); // the frame is kept in history: no reuse
        this.partialFill = 0;
        this.processFrame(frame, events);
      }
    }
    return events;
  }

  /** End of stream: speech still under way becomes an utterance (a part-frame at the end is dropped). */
  flush(): EndpointerEvent[] {
    if (!this.inSpeech) return [];
    if (!this.confirmed) {
      this.toIdle();
      return [];
    }
    const span = this.span(Math.min(this.frameIndex - 1, this.lastSpeechFrame + this.postRollFrames));
    this.toIdle();
    return [{ type: "utterance", ...span }];
  }

  private processFrame(frame: Int16Array, events: EndpointerEvent[]): void {
    const f = this.frameIndex++;
    const decision = this.vad.process(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
    const speech = f >= this.warmupFrames && decision;
    this.history.push(frame);

    if (!this.inSpeech) {
      this.window.push(speech);
      if (this.window.length > this.windowFrames) this.window.shift();
      const voiced = this.window.reduce((n, v) => n + (v ? 1 : 0), 0);
      if (voiced >= this.minSpeechFrames) {
        // The start is the first speech frame of the window that tipped the decision.
        this.speechStartFrame = f - this.window.length + 1 + this.window.indexOf(true);
        this.lastSpeechFrame = f;
        this.silenceRun = 0;
        this.inSpeech = true;
        this.confirmed = false;
        this.window = [];
        this.confirm(f, events);
      } else {
        this.checkNoInput(f, events);
      }
      this.trimHistory();
      return;
    }

    if (speech) {
      this.lastSpeechFrame = f;
      this.silenceRun = 0;
      if (!this.confirmed) this.confirm(f, events);
    } else {
      this.silenceRun++;
    }
    const ended = this.silenceRun >= this.trailingFrames ||
      (this.silenceRun >= this.completeFrames && this.confirmed && this.complete !== null && this.complete());
    if (ended) {
      if (!this.confirmed) {
        // Too short to be a word: forget it, as if nothing had been heard.
        this.toIdle();
        this.checkNoInput(f, events);
        return;
      }
      const span = this.span(Math.min(f, this.lastSpeechFrame + this.postRollFrames));
      this.toIdle();
      events.push({ type: "utterance", ...span });
    } else if (f + 1 - this.speechStartFrame >= this.maxFrames) {
      const span = this.span(f, (f + 1) * this.frameMs);
      this.toIdle();
      events.push({ type: "too-long", ...span });
    }
  }

  /** Reports speech-start once the speech found has lasted long enough to be a word. */
  private confirm(f: number, events: EndpointerEvent[]): void {
    if (this.lastSpeechFrame - this.speechStartFrame + 1 < this.minUtteranceFrames) return;
    this.confirmed = true;
    this.noInputDeadline = undefined;
    events.push({ type: "speech-start", startMs: this.speechStartFrame * this.frameMs, atMs: (f + 1) * this.frameMs });
  }

  private checkNoInput(f: number, events: EndpointerEvent[]): void {
    if (this.noInputDeadline !== undefined && f + 1 >= this.noInputDeadline) {
      this.noInputDeadline = undefined;
      events.push({ type: "no-input", atMs: (f + 1) * this.frameMs });
    }
  }

  /** The utterance from pre-roll to `lastFrame` (inclusive). */
  private span(lastFrame: number, endMs = (this.lastSpeechFrame + 1) * this.frameMs): UtteranceSpan {
    const first = Math.max(this.historyStart, this.speechStartFrame - this.preRollFrames);
    const frames = this.history.slice(first - this.historyStart, lastFrame - this.historyStart + 1);
    const pcm = new Int16Array(frames.length * this.frameSamples);
    frames.forEach((fr, i) => pcm.set(fr, i * this.frameSamples));
    return { pcm, startMs: this.speechStartFrame * this.frameMs, endMs, pcmStartMs: first * this.frameMs };
  }

  private toIdle(): void {
    this.inSpeech = false;
    this.confirmed = false;
    this.window = [];
    this.silenceRun = 0;
    this.trimHistory();
  }

  /** While idle only the pre-roll plus the start window can still become part of an utterance. */
  private trimHistory(): void {
    const keep = this.preRollFrames + this.windowFrames;
    const drop = this.history.length - keep;
    if (drop > 0) {
      this.history.splice(0, drop);
      this.historyStart += drop;
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What one listening turn ended with. "end": the audio ran out (or listening was aborted) first. */
export type ListenResult =
  | ({ type: "utterance" } & UtteranceSpan)
  | ({ type: "too-long" } & UtteranceSpan)
  | { type: "no-input"; atMs: number }
  | { type: "end"; aborted: boolean };

export interface ListenOptions {
  /** No-input timeout for this turn (default: the endpointer's `noInputMs`; Infinity disables). */
  noInputMs?: number;
  /** Every event as it happens, including speech-start (for barge-in and a "listening…" display). */
  onEvent?: (event: EndpointerEvent) => void;
  /** Stops waiting; resolves `{type: "end", aborted: true}`. Audio read meanwhile is not lost. */
  signal?: AbortSignal;
}

/**
 * Turn-by-turn listening on one source: `next()` resolves at each utterance, no-input or too-long,
 * keeping the VAD, the source's iterator and any audio already read between turns.
 */
export class Listener {
  readonly endpointer: Endpointer;
  private readonly iterator: AsyncIterator<Pcm>;
  private queued: EndpointerEvent[] = [];
  private pending: Promise<IteratorResult<Pcm>> | undefined;
  private ended = false;

  constructor(readonly source: AudioSource, options: EndpointerOptions = {}) {
    this.endpointer = new Endpointer(options);
    this.iterator = source.chunks()[Symbol.asyncIterator]();
  }

  get speechActive(): boolean {
    return this.endpointer.speechActive;
  }

  async next(options: ListenOptions = {}): Promise<ListenResult> {
    const { onEvent, signal } = options;
    this.endpointer.startListening(options.noInputMs);
    for (;;) {
      while (this.queued.length > 0) {
        const event = this.queued.shift()!;
        onEvent?.(event);
        if (event.type !== "speech-start") return event;
      }
      if (this.ended) return { type: "end", aborted: false };
      if (signal?.aborted) return { type: "end", aborted: true };
      this.pending ??= this.iterator.next();
      const result = await raceAbort(this.pending, signal);
      if (result === ABORTED) return { type: "end", aborted: true };
      this.pending = undefined;
      if (result.done) {
        this.ended = true;
        this.queued.push(...this.endpointer.flush());
      } else {
        this.queued.push(...this.endpointer.push(result.value));
      }
    }
  }

  /** Drops events not yet returned and speech under way; audio already read but not yet seen stays. */
  restart(): void {
    this.queued = [];
    this.endpointer.restart();
  }

  /** Stops reading without closing the source (ends its iterator: a microphone stops capturing). */
  async stop(): Promise<void> {
    this.ended = true;
    this.queued = [];
    await this.iterator.return?.(undefined).catch(() => undefined);
  }

  /** Stops reading and closes the source. */
  async close(): Promise<void> {
    this.ended = true;
    await this.source.close();
    await this.stop();
  }
}

const ABORTED = Symbol("aborted");

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/**
 * One-shot: reads `source` until the first utterance, no-input or too-long (or its end), then stops
 * reading (the source's iterator is returned, which ends a microphone capture; closing the source
 * stays the caller's job). For turn-by-turn use keep a `Listener`.
 */
export async function nextUtterance(source: AudioSource, options: EndpointerOptions & ListenOptions = {}): Promise<ListenResult> {
  const listener = new Listener(source, options);
  try {
    return await listener.next(options);
  } finally {
    await listener.stop();
  }
}
