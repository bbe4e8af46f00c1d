import { Listener, type EndpointerOptions, type ListenResult } from "../audio/endpointer.js";
import { SAMPLE_RATE, type AudioSource, type Pcm } from "../audio/types.js";
import { SpeechServiceError, type Hypothesis, type RecognitionContext, type Recognizer, type Utterance } from "../speech/types.js";

export interface TurnHooks {
  /** Input level of every chunk, 0..1 (RMS of full scale): the live level meter. */
  onLevel?: (level: number) => void;
  onSpeechStart?: () => void;
  /** The recognizer's partial transcript while the person speaks; `secret`: it answers a secret question (the PIN), so show it redacted. */
  onPartial?: (text: string, secret: boolean) => void;
}

export type HeardTurn =
  | { type: "utterance" | "too-long"; alternatives: Hypothesis[]; pcm: Pcm; startMs: number; endMs: number; recognizeMs: number; recoveredFrom?: Error }
  /** The recognizer failed on this speech (a cloud service unreachable, with no offline engine to stand in). */
  | { type: "failed"; error: Error; pcm: Pcm; startMs: number; endMs: number }
  | { type: "no-input" }
  | { type: "end"; aborted: boolean };

const RING_MS = 3000;

/**
 * Listening with recognition while the person speaks: audio is fed to the recognizer from the
 * moment the VAD hears speech (with the pre-roll kept in a ring buffer), so at the end of speech
 * only the tail is left to decode. Works the same on a microphone and on a replayed file.
 */
export class StreamingTurns {
  private readonly listener: Listener;
  private readonly ring: Pcm;
  private ringWritten = 0; // samples ever written to the ring
  private utterance: Utterance | null = null;
  private lastPartial = "";
  /** Whether the open turn answers a secret question (see TurnHooks.onPartial). */
  private secret = false;
  /** While waiting for a wake word: sees every chunk, returns true when the word ended in it. */
  private spot: ((chunk: Pcm) => boolean) | null = null;
  private spotted: AbortController | null = null;

  constructor(source: AudioSource, private readonly recognizer: Recognizer, private readonly endpointer: EndpointerOptions = {}, private readonly hooks: TurnHooks = {}) {
    this.ring = new Int16Array((SAMPLE_RATE * RING_MS) / 1000);
    const tapped: AudioSource = {
      description: source.description,
      realtime: source.realtime,
      close: () => source.close(),
      chunks: () => this.tap(source),
    };
    this.listener = new Listener(tapped, endpointer);
    // Live audio only: a replay runs ahead of the decoder, so its partial transcript lags and an
    // early end would depend on timing.
    const complete = recognizer.complete?.bind(recognizer);
    if (source.realtime && complete) {
      this.listener.endpointer.complete = () => this.utterance !== null && complete(this.utterance.partial());
    }
  }

  get speechActive(): boolean {
    return this.listener.speechActive;
  }

  private async *tap(source: AudioSource): AsyncGenerator<Pcm> {
    for await (const chunk of source.chunks()) {
      this.remember(chunk);
      if (this.hooks.onLevel) this.hooks.onLevel(rms(chunk));
      if (this.spot?.(chunk)) this.spotted?.abort();
      if (this.utterance) {
        this.utterance.write(chunk);
        const partial = this.utterance.partial();
        if (partial && partial !== this.lastPartial) this.hooks.onPartial?.((this.lastPartial = partial), this.secret);
      }
      yield chunk;
    }
  }

  private remember(chunk: Pcm) {
    for (let i = 0; i < chunk.length; i++) this.ring[(this.ringWritten + i) % this.ring.length] = chunk[i];
    this.ringWritten += chunk.length;
  }

  /** The ring's samples from `fromSample` (absolute) to now. */
  private recent(fromSample: number): Pcm {
    const from = Math.max(fromSample, this.ringWritten - this.ring.length, 0);
    const out = new Int16Array(this.ringWritten - from);
    for (let i = 0; i < out.length; i++) out[i] = this.ring[(from + i) % this.ring.length];
    return out;
  }

  /** Listens for one turn. */
  async next(opts: { noInputMs?: number; signal?: AbortSignal; onSpeechStart?: () => void; context?: RecognitionContext } = {}): Promise<HeardTurn> {
    const preRollMs = this.endpointer.preRollMs ?? 200;
    const result: ListenResult = await this.listener.next({
      noInputMs: opts.noInputMs,
      signal: opts.signal,
      onEvent: (event) => {
        if (event.type !== "speech-start") return;
        this.hooks.onSpeechStart?.();
        opts.onSpeechStart?.();
        // Begin decoding now, with the audio since just before the speech started.
        this.utterance = this.recognizer.begin(opts.context);
        this.lastPartial = "";
        this.secret = !!opts.context?.exclusive;
        this.utterance.write(this.recent(Math.round(((event.startMs - preRollMs) * SAMPLE_RATE) / 1000)));
      },
    });
    if (result.type === "no-input" || result.type === "end") {
      await this.abandon();
      return result.type === "end" ? result : { type: "no-input" };
    }
    const started = performance.now();
    const utterance = this.utterance ?? this.recognizer.begin(opts.context);
    if (!this.utterance) utterance.write(result.pcm); // speech-start was not seen (cannot happen with the Listener, but stay correct)
    this.utterance = null;
    let alternatives: Hypothesis[];
    try {
      alternatives = await utterance.end();
    } catch (e) {
      // A service that failed on this turn (Azure unreachable) leaves a turn all the same: the
      // dialogue apologises and listens on. Anything else is a bug, and keeps its stack.
      if (!(e instanceof SpeechServiceError)) throw e;
      return { type: "failed", error: e, pcm: result.pcm, startMs: result.startMs, endMs: result.endMs };
    }
    return { type: result.type, alternatives, pcm: result.pcm, startMs: result.startMs, endMs: result.endMs, recognizeMs: performance.now() - started, recoveredFrom: utterance.recoveredFrom };
  }

  /**
   * Reads the audio until `spot` finds the wake word in it (true), the source ends or `signal`
   * aborts (false). Speech without the word is no turn; the word itself is not part of the next one.
   */
  async wake(spot: (chunk: Pcm) => boolean, signal?: AbortSignal): Promise<boolean> {
    const spotted = new AbortController();
    const stop = () => spotted.abort();
    signal?.addEventListener("abort", stop, { once: true });
    this.spot = spot;
    this.spotted = spotted;
    try {
      for (;;) {
        const result = await this.listener.next({ noInputMs: Infinity, signal: spotted.signal });
        if (result.type !== "end") continue; // speech without the wake word: not for us
        if (!result.aborted || signal?.aborted) return false;
        this.listener.restart();
        return true;
      }
    } finally {
      this.spot = null;
      this.spotted = null;
      signal?.removeEventListener("abort", stop);
    }
  }

  private async abandon() {
    if (!this.utterance) return;
    const u = this.utterance;
    this.utterance = null;
    await u.end().catch(() => []);
  }

  async close(): Promise<void> {
    await this.abandon();
    await this.listener.close();
  }
}

function rms(pcm: Pcm): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return pcm.length ? Math.sqrt(sum / pcm.length) / 32768 : 0;
}
