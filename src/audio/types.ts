/**
 * Audio inside talkcart is always 16 kHz, mono, signed 16-bit PCM (what the recognizers and the
 * VAD take), carried in Int16Array chunks of any length.
 */
export const SAMPLE_RATE = 16_000;

export type Pcm = Int16Array;

/** Where audio comes from: a microphone, a WAV file, stdin, or a test. */
export interface AudioSource {
  /** For messages: "microphone (sox rec, default device)", "file.wav". */
  readonly description: string;
  /** True when chunks arrive at the pace of real time (a microphone, a paced file). */
  readonly realtime: boolean;
  /** The audio, chunk by chunk, until the source ends or is closed. */
  chunks(): AsyncIterable<Pcm>;
  close(): Promise<void>;
}

/** An expected audio failure (no device, no sox, unreadable WAV): said in one line with what to do. */
export class AudioError extends Error {
  /** `message` without the hint. */
  readonly problem: string;
  constructor(message: string, readonly hint?: string) {
    super(hint ? `${message} — ${hint}` : message);
    this.problem = message;
  }
}
