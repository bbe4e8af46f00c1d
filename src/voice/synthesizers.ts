import { ConfigError } from "../config.js";
import { STAND_IN_MS } from "../speech/fallback.js";
import { EspeakSynthesizer } from "./espeak.js";
import type { Synthesizer } from "./synthesizer.js";

export const VOICES = ["espeak", "azure"] as const;
export type VoiceName = (typeof VOICES)[number];

/** A synthesizer that may hold a connection (Azure) to close when the command ends. */
export type ClosableSynthesizer = Synthesizer & { close(): Promise<void> };

/** The voice asked for: `--tts`, else TALKCART_TTS, else espeak-ng. */
export const chosenVoice = (flag?: string): string => flag ?? (process.env.TALKCART_TTS || "espeak");

/** The voice of that name; a misspelt one is a mistake to fix (one line), not a reason to fall back. */
export function voiceNamed(name: string): VoiceName {
  if (!VOICES.includes(name as VoiceName)) throw new ConfigError(`${name}: unknown voice: use one of ${VOICES.join(", ")}`);
  return name as VoiceName;
}

/**
 * The reply voice by name. Azure needs its key and region (SynthesizerUnavailable says which is
 * missing). A reply Azure fails to synthesize is spoken by espeak-ng instead, so the person still
 * hears it, and `onFallback` says why (once per cause is the caller's business); espeak-ng then
 * keeps speaking for STAND_IN_MS, as the offline recognizer does, so that a network that is down
 * does not hold every reply up to Azure's deadline.
 */
export async function openSynthesizer(name: string, onFallback?: (error: Error) => void, now = () => performance.now()): Promise<ClosableSynthesizer> {
  voiceNamed(name);
  const espeak = new EspeakSynthesizer();
  if (name === "espeak") return { name: espeak.name, synthesize: (text, locale) => espeak.synthesize(text, locale), close: async () => {} };
  const { createAzureSynthesizer } = await import("./azure-tts.js"); // the SDK loads only for this voice
  const azure = createAzureSynthesizer();
  let failedAt = -Infinity;
  return {
    name: azure.name,
    async synthesize(text, locale) {
      if (now() - failedAt < STAND_IN_MS) return espeak.synthesize(text, locale);
      try {
        return await azure.synthesize(text, locale);
      } catch (e) {
        failedAt = now();
        onFallback?.(e as Error);
        return espeak.synthesize(text, locale);
      }
    },
    close: () => azure.close(),
  };
}
