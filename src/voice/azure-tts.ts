/**
 * Azure text-to-speech through the real `microsoft-cognitiveservices-speech-sdk`: SSML with a
 * neural voice per locale, raw 16 kHz 16-bit mono PCM out. One SDK synthesizer is kept (its
 * connection is reused between replies) and replaced after any failure. Every call runs under a
 * deadline; failures become AzureSpeechError (see src/speech/azure-service.ts).
 */
import * as sdk from "microsoft-cognitiveservices-speech-sdk";
import type { Pcm } from "../audio/types.js";
import { SynthesizerUnavailable, type Synthesizer } from "./synthesizer.js";
import { spokenMeasures } from "./speech-format.js";
import { AzureSpeechError, azureLanguage, azureSpeechSettings, cancellationError, deadline, sdkCall, speechConfigFor, type AzureSpeechSettings } from "../speech/azure-service.js";

export { AzureSpeechError } from "../speech/azure-service.js";
export { SynthesizerUnavailable } from "./synthesizer.js";

export const AZURE_VOICES: Record<string, string> = {
  "en-US": "en-US-JennyNeural",
  "de-DE": "de-DE-KatjaNeural",
};

export interface AzureSynthesizerOptions {
  env?: Record<string, string | undefined>;
  /** Voice per Azure language tag (en-US, de-DE), over AZURE_VOICES. */
  voices?: Record<string, string>;
  /** Deadline for one synthesis. Default 15 s. */
  timeoutMs?: number;
  /** Deadline for closing the SDK synthesizer. Default 3 s. */
  closeTimeoutMs?: number;
}

export function createAzureSynthesizer(options: AzureSynthesizerOptions = {}): AzureSynthesizer {
  return new AzureSynthesizer(options);
}

export class AzureSynthesizer implements Synthesizer {
  readonly name = "azure";
  private readonly settings: AzureSpeechSettings;
  private readonly voices: Record<string, string>;
  private current?: sdk.SpeechSynthesizer;
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly options: AzureSynthesizerOptions = {}) {
    const settings = azureSpeechSettings(options.env ?? process.env);
    if ("missing" in settings) throw new SynthesizerUnavailable("azure", settings.missing);
    this.settings = settings;
    this.voices = { ...AZURE_VOICES, ...options.voices };
  }

  /** The voice used for a talkcart locale (en, de) or Azure language tag. */
  voice(locale: string): string {
    const language = azureLanguage(locale);
    return this.voices[language] ?? AZURE_VOICES[language] ?? `${language}-JennyNeural`;
  }

  /** The SSML sent for a reply. */
  ssml(text: string, locale: string): string {
    const language = azureLanguage(locale);
    return (
      `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${language}">` +
      `<voice name="${escapeXml(this.voice(locale))}">${escapeXml(spokenMeasures(text, locale))}</voice></speak>`
    );
  }

  async synthesize(text: string, locale: string): Promise<Pcm> {
    const synthesizer = (this.current ??= this.makeSynthesizer());
    try {
      const result = await deadline(
        sdkCall<sdk.SpeechSynthesisResult>((ok, err) => synthesizer.speakSsmlAsync(this.ssml(text, locale), ok, err)),
        this.options.timeoutMs ?? 15_000,
        "synthesizing speech",
      );
      if (result.reason === sdk.ResultReason.Canceled) {
        const details = sdk.CancellationDetails.fromResult(result);
        throw cancellationError(details.ErrorCode, details.errorDetails ?? "");
      }
      if (result.reason !== sdk.ResultReason.SynthesizingAudioCompleted) {
        throw new AzureSpeechError("service", `unexpected synthesis result (${sdk.ResultReason[result.reason]})`);
      }
      const bytes = Buffer.from(result.audioData);
      const pcm = new Int16Array(bytes.length >> 1);
      Buffer.from(pcm.buffer).set(bytes.subarray(0, pcm.length * 2));
      return pcm;
    } catch (e) {
      // A failed SDK synthesizer may be stuck mid-turn: start afresh next time.
      if (this.current === synthesizer) this.current = undefined;
      this.closeInBackground(synthesizer);
      throw e;
    }
  }

  async close(): Promise<void> {
    const s = this.current;
    this.current = undefined;
    if (s) await this.closeSynthesizer(s);
    await Promise.all(this.closing); // a failed one's socket too, or the process outlives the command
  }

  /** Closes a failed synthesizer without holding up the reply; close() waits for it. */
  private closeInBackground(s: sdk.SpeechSynthesizer) {
    const done = this.closeSynthesizer(s).finally(() => this.closing.delete(done));
    this.closing.add(done);
  }

  private makeSynthesizer(): sdk.SpeechSynthesizer {
    const config = speechConfigFor(this.settings, "tts");
    config.speechSynthesisOutputFormat = sdk.SpeechSynthesisOutputFormat.Raw16Khz16BitMonoPcm;
    return new sdk.SpeechSynthesizer(config, null); // null: no speaker output, audio in the result only
  }

  private closeSynthesizer(s: sdk.SpeechSynthesizer): Promise<void> {
    return deadline(sdkCall((ok, err) => s.close(ok, err)), this.options.closeTimeoutMs ?? 3_000, "closing the synthesizer").catch(() => {});
  }
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}
