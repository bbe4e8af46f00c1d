import type { Pcm } from "../audio/types.js";

/** Turns reply text into speech: 16 kHz mono 16-bit PCM. */
export interface Synthesizer {
  readonly name: string;
  synthesize(text: string, locale: string): Promise<Pcm>;
}

/** A voice that cannot start (no key, no program): one line saying what to install or set. */
export class SynthesizerUnavailable extends Error {
  constructor(readonly engine: string, message: string) {
    super(`${engine}: ${message}`);
  }
}
