import type { AudioSource } from "../audio/types.js";
import type { EndpointerOptions } from "../audio/endpointer.js";
import type { Session, TurnTrace } from "../dialogue/session.js";
import type { Recognizer } from "../speech/types.js";
import type { Synthesizer } from "../voice/synthesizer.js";
import type { Playback } from "../voice/playback.js";
import { StreamingTurns, type HeardTurn, type TurnHooks } from "./streaming-turns.js";
import { answer } from "./answer.js";

/** How a turn is opened when the assistant has not just asked a question. */
export type Trigger =
  | { kind: "always" }
  /** Push-to-talk: resolves when the person presses the key (Enter). */
  | { kind: "ptt"; pressed: () => Promise<void> }
  /** A wake word: `spot` sees the same audio and returns true in the chunk where the word ended. */
  | { kind: "wake"; spot: (chunk: Int16Array) => boolean; onWake?: () => void };

export interface VoiceLoopOptions {
  source: AudioSource;
  recognizer: Recognizer;
  session: Session;
  synthesizer?: Synthesizer;
  play?: (pcm: Int16Array) => Playback;
  trigger: Trigger;
  /** Endpointing: e.g. the trailing silence that ends a request (default 600 ms). */
  endpointer?: EndpointerOptions;
  /** No speech this long after listening starts counts as silence (the dialogue reprompts). */
  noInputMs?: number;
  hooks?: TurnHooks & {
    onListening?: () => void;
    onTurn?: (t: TurnTrace) => void;
    /** A reply could not be spoken: said once per cause until a reply plays again (a speaker that is not plugged in must not fill every turn). */
    onSpeakError?: (message: string) => void;
    /** The recognizer failed on a turn (the person hears an apology; this is the reason, for the log). */
    onRecognizerError?: (message: string) => void;
  };
  signal?: AbortSignal;
  /** Speech during a reply stops it (default true; turn off for a loudspeaker the microphone hears). */
  bargeIn?: boolean;
  /**
   * A new conversation after one has ended ("bye"): with a wake word or push-to-talk the loop then
   * waits for the next trigger instead of ending, as a speaker on a shelf should (Ctrl-C or the
   * signal stops it). Without it, or with no trigger, the loop ends with the session.
   */
  nextSession?: () => Session;
}

/**
 * The live loop: (trigger) -> listen -> recognize -> dialogue -> speak, until the session ends
 * (or, with `nextSession`, until the audio ends or the signal stops it).
 * After a question ("Anything else?", "Which one?") it listens again without the trigger, and
 * speech during a spoken reply stops the reply (barge-in) and becomes the next turn.
 */
export async function runVoiceLoop(opts: VoiceLoopOptions): Promise<void> {
  const turns = new StreamingTurns(opts.source, opts.recognizer, opts.endpointer, opts.hooks);
  let lastCause: string | null = null;
  // The same cause with other figures ("did not finish within 7 s") is the same cause.
  const spoken = (problem: string | null) => {
    const cause = problem?.replace(/\d+(\.\d+)?/g, "#") ?? null;
    if (problem && cause !== lastCause) opts.hooks?.onSpeakError?.(problem);
    lastCause = cause;
  };
  let session = opts.session;
  let expectingAnswer = false;
  let interrupted: Promise<HeardTurn> | null = null; // a turn that began while the assistant was speaking
  try {
    while (!opts.signal?.aborted) {
      if (session.ended) {
        if (!opts.nextSession || opts.trigger.kind === "always") break;
        expectingAnswer = false;
        interrupted = null;
      }
      if (!expectingAnswer && !interrupted) {
        if (opts.trigger.kind === "ptt") await opts.trigger.pressed();
        else if (opts.trigger.kind === "wake") {
          if (!(await turns.wake(opts.trigger.spot, opts.signal))) break; // the audio ended or we were stopped
          opts.trigger.onWake?.();
        }
      }
      // The new conversation starts when someone speaks to it: a session that ended ("bye") or
      // timed out while the device waited for the trigger is replaced now, not before the wait.
      if (session.ended && opts.nextSession) session = opts.nextSession();
      opts.hooks?.onListening?.();
      const heard: HeardTurn = await (interrupted ?? turns.next({ noInputMs: opts.noInputMs ?? 8000, signal: opts.signal, context: session.expecting }));
      interrupted = null;
      if (heard.type === "end") break;
      if (heard.type === "failed") opts.hooks?.onRecognizerError?.(heard.error.message);
      const trace: TurnTrace = await answer(session, heard);
      opts.hooks?.onTurn?.(trace);
      expectingAnswer = trace.reply.trim().endsWith("?") || trace.stateAfter !== "ready";
      if (opts.synthesizer && opts.play) interrupted = (await speak(trace.reply, session, opts, trace.ended ? null : turns, spoken))?.next ?? null;
    }
  } finally {
    await turns.close();
  }
}

/**
 * Speaks a reply while listening: if the person starts talking, the reply stops at once and what
 * they say becomes the next turn (returned). Without barge-in, listening waits for the reply to end.
 */
async function speak(text: string, session: Session, opts: VoiceLoopOptions, turns: StreamingTurns | null, spoken: (problem: string | null) => void): Promise<{ next: Promise<HeardTurn> } | null> {
  let pcm: Int16Array;
  try {
    pcm = await opts.synthesizer!.synthesize(text, session.locale);
  } catch (e) {
    spoken((e as Error).message);
    return null;
  }
  const playback = opts.play!(pcm);
  if (!turns || opts.bargeIn === false) {
    const outcome = await playback.done;
    spoken(outcome.status === "failed" ? outcome.error.message : null);
    return null;
  }
  const stopListening = new AbortController();
  let bargedIn = false;
  const listening = turns.next({ noInputMs: Infinity, signal: stopListening.signal, context: session.expecting, onSpeechStart: () => { bargedIn = true; playback.stop(); } });
  const outcome = await playback.done;
  spoken(outcome.status === "failed" ? outcome.error.message : null);
  if (bargedIn) return { next: listening };
  stopListening.abort();
  await listening;
  return null;
}
