import type { Pcm } from "../audio/types.js";

/** Turns reply text into speech: 16 kHz mono 16-bit PCM. */
export interface Synthesizer {
  readonly name: string;
  synthesize(text: string, locale: string): Promise<Pcm>;
}
