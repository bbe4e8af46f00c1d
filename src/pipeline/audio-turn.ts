import type { Pcm } from "../audio/types.js";
import type { Session, TurnTrace } from "../dialogue/session.js";
import type { Hypothesis, Recognizer } from "../speech/types.js";

/** Where the time of one spoken turn went, from the end of speech. */
export interface StageTimings {
  /** End of speech -> final transcript (the recognizer finishing the utterance). */
  recognizeMs: number;
  /** Final transcript -> reply text (NLU, dialogue, shop). */
  replyMs: number;
  /** End of speech -> reply text. */
  totalMs: number;
}

export interface AudioTurn {
  transcript: string;
  alternatives: Hypothesis[];
  trace: TurnTrace;
  timings: StageTimings;
  /** Seconds of audio in the utterance, and the recognizer's real-time factor on it. */
  audioSeconds: number;
  rtf: number;
}

const CHUNK = 320; // 20 ms at 16 kHz: the size a live source delivers

/** Runs recognition over one utterance's audio, in live-sized chunks. */
export async function recognize(recognizer: Recognizer, pcm: Pcm): Promise<{ alternatives: Hypothesis[]; ms: number }> {
  const started = performance.now();
  const utterance = recognizer.begin();
  for (let i = 0; i < pcm.length; i += CHUNK) utterance.write(pcm.subarray(i, i + CHUNK));
  const alternatives = await utterance.end();
  return { alternatives, ms: performance.now() - started };
}

/** One spoken turn: the utterance's audio through the recognizer, then the n-best into the dialogue. */
export async function hearUtterance(pcm: Pcm, recognizer: Recognizer, session: Session): Promise<AudioTurn> {
  const { alternatives, ms: recognizeMs } = await recognize(recognizer, pcm);
  const replyStarted = performance.now();
  const trace = await session.hear(alternatives);
  const replyMs = performance.now() - replyStarted;
  const audioSeconds = pcm.length / 16_000;
  return {
    transcript: trace.input,
    alternatives,
    trace,
    timings: { recognizeMs: round(recognizeMs), replyMs: round(replyMs), totalMs: round(recognizeMs + replyMs) },
    audioSeconds: round(audioSeconds),
    rtf: audioSeconds > 0 ? Math.round((recognizeMs / 1000 / audioSeconds) * 1000) / 1000 : 0,
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
