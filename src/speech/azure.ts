/**
 * Azure Speech recognizer through the real `microsoft-cognitiveservices-speech-sdk`.
 *
 * One SDK SpeechRecognizer per utterance, fed by a push stream (16 kHz mono s16le) and run in
 * continuous mode until our VAD ends the utterance (`end()` closes the stream). Why continuous and
 * not recognizeOnceAsync: recognizeOnce stops at the service's first end-of-speech silence (a
 * pause mid-command loses the rest), and on a dropped connection (close 1011) it may never answer,
 * whereas continuous mode reconnects and replays the audio. The connection is opened at `begin()`,
 * so its set-up overlaps the person speaking.
 *
 * Every SDK promise runs under a deadline; every failure becomes an AzureSpeechError (kind: auth,
 * connection, timeout, service, ...) that the dialogue turns into a spoken apology.
 */
import * as sdk from "microsoft-cognitiveservices-speech-sdk";
import type { Pcm } from "../audio/types.js";
import { grammarPhrases } from "../nlu/vocabulary.js";
import { RecognizerUnavailable, type Hypothesis, type RecognitionDomain, type Recognizer, type Utterance } from "./types.js";
import { AzureSpeechError, azureLanguage, azureSpeechSettings, cancellationError, deadline, sdkCall, speechConfigFor, type AzureSpeechSettings } from "./azure-service.js";

export { AzureSpeechError, azureLanguage, type AzureFailure } from "./azure-service.js";

export interface AzureRecognizerOptions {
  /** Where AZURE_SPEECH_KEY, AZURE_SPEECH_REGION, AZURE_SPEECH_ENDPOINT / AZURE_SPEECH_HOST come from. */
  env?: Record<string, string | undefined>;
  /** Phrases to bias towards; default `grammarPhrases(domain.grammar, domain.catalogPhrases)`. */
  phrases?: string[];
  /** At most this many phrases go into the phrase list (catalog names first). Default 500. */
  maxPhrases?: number;
  /** Deadline for starting recognition (connect). Default 10 s. */
  startTimeoutMs?: number;
  /** Deadline from `end()` to the final result. Default 10 s. */
  resultTimeoutMs?: number;
  /** Deadline for closing SDK objects. Default 3 s. */
  closeTimeoutMs?: number;
  /**
   * When the connection drops after the audio has ended, how long to wait for the SDK's reconnect to
   * produce the result before failing with "connection". Default 2 s. (Measured: after a drop the SDK
   * reconnects but resends only the RIFF header, never the audio or its end, so no result comes.)
   */
  reconnectGraceMs?: number;
  /** Audio sent unthrottled before the SDK paces at 2x real time. Default 600 s (replayed files go at full speed). */
  unthrottledMs?: number;
  /** Connection attempts after the first before the SDK gives up (SDK default 4). */
  maxRetries?: number;
}

/** Creates the Azure recognizer for a domain; throws RecognizerUnavailable when the key or region is missing. */
export function createAzureRecognizer(domain: RecognitionDomain, options: AzureRecognizerOptions = {}): AzureRecognizer {
  return new AzureRecognizer(domain, options);
}

export class AzureRecognizer implements Recognizer {
  readonly name = "azure";
  readonly locale: string;
  /** The Azure language tag the service is asked for (en-US, de-DE). */
  readonly language: string;
  /** The phrase list sent with every utterance. */
  readonly phrases: string[];
  private readonly settings: AzureSpeechSettings;
  private open?: AzureUtterance;
  private closed = false;
  /** SDK recognizers still closing in the background; close() waits for them. */
  private readonly disposals = new Set<Promise<void>>();

  constructor(domain: RecognitionDomain, private readonly options: AzureRecognizerOptions = {}) {
    const settings = azureSpeechSettings(options.env ?? process.env);
    if ("missing" in settings) throw new RecognizerUnavailable("azure", settings.missing);
    this.settings = settings;
    this.locale = domain.locale;
    this.language = azureLanguage(domain.locale);
    const phrases = options.phrases ?? grammarPhrases(domain.grammar, domain.catalogPhrases);
    this.phrases = [...new Set(phrases.map((p) => p.trim()).filter(Boolean))].slice(0, options.maxPhrases ?? 500);
  }

  begin(): Utterance {
    if (this.closed) throw new Error("azure recognizer is closed");
    if (this.open && !this.open.finished) throw new Error("azure recognizer: an utterance is already open (end it first)");
    this.open = new AzureUtterance(this.makeRecognizer(), this.options, this.disposals);
    return this.open;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.open?.abort();
    await Promise.all(this.disposals);
  }

  private makeRecognizer(): { recognizer: sdk.SpeechRecognizer; stream: sdk.PushAudioInputStream } {
    const config = speechConfigFor(this.settings, "stt");
    config.speechRecognitionLanguage = this.language;
    config.outputFormat = sdk.OutputFormat.Detailed;
    config.requestWordLevelTimestamps();
    config.setProperty("SPEECH-TransmitLengthBeforThrottleMs", String(this.options.unthrottledMs ?? 600_000));
    if (this.options.maxRetries !== undefined) config.setProperty("SPEECH-Error-MaxRetryCount", String(this.options.maxRetries));
    // Without this the SDK's close() waits for the service to end the turn, however long that takes.
    config.setProperty(sdk.PropertyId.Recognizer_StopTimeoutMs, "500");
    const stream = sdk.AudioInputStream.createPushStream(sdk.AudioStreamFormat.getWaveFormatPCM(16_000, 16, 1));
    const recognizer = new sdk.SpeechRecognizer(config, sdk.AudioConfig.fromStreamInput(stream));
    if (this.phrases.length) sdk.PhraseListGrammar.fromRecognizer(recognizer).addPhrases(this.phrases);
    return { recognizer, stream };
  }
}

/** One phrase the service recognized within the utterance: its readings, best first. */
type Segment = Hypothesis[];

class AzureUtterance implements Utterance {
  finished = false;
  private readonly segments: Segment[] = [];
  private hypothesis = "";
  private failure?: AzureSpeechError;
  private readonly started: Promise<void>;
  private readonly stopped: Promise<void>;
  private settleStopped!: () => void;
  private failStopped!: (e: AzureSpeechError) => void;
  private disposed = false;
  private settled = false;
  private graceTimer?: NodeJS.Timeout;
  private readonly recognizer: sdk.SpeechRecognizer;
  private readonly stream: sdk.PushAudioInputStream;
  private readonly connection: sdk.Connection;

  constructor(
    parts: { recognizer: sdk.SpeechRecognizer; stream: sdk.PushAudioInputStream },
    private readonly options: AzureRecognizerOptions,
    private readonly disposals: Set<Promise<void>>,
  ) {
    ({ recognizer: this.recognizer, stream: this.stream } = parts);
    this.stopped = new Promise<void>((resolve, reject) => {
      this.settleStopped = resolve;
      this.failStopped = reject;
    });
    this.stopped.catch(() => {}); // observed in end()
    void this.stopped.finally(() => {
      this.settled = true;
      clearTimeout(this.graceTimer);
    }).catch(() => {});
    const r = this.recognizer;
    this.connection = sdk.Connection.fromRecognizer(r);
    this.connection.disconnected = () => {
      if (!this.finished || this.settled || this.graceTimer) return;
      this.graceTimer = setTimeout(
        () => this.fail(new AzureSpeechError("connection", "the connection dropped before the result arrived")),
        options.reconnectGraceMs ?? 2_000,
      );
    };
    r.recognizing = (_s, e) => {
      this.hypothesis = e.result.text ?? "";
    };
    r.recognized = (_s, e) => {
      this.hypothesis = "";
      if (e.result.reason === sdk.ResultReason.RecognizedSpeech) {
        const segment = readings(e.result);
        if (segment.length) this.segments.push(segment);
      }
    };
    r.canceled = (_s, e) => {
      if (e.reason === sdk.CancellationReason.EndOfStream) this.settleStopped();
      else this.fail(cancellationError(e.errorCode, e.errorDetails ?? ""));
    };
    r.sessionStopped = () => this.settleStopped();
    this.started = deadline(
      sdkCall((ok, err) => r.startContinuousRecognitionAsync(ok, err)),
      options.startTimeoutMs ?? 10_000,
      "starting recognition",
    );
    this.started.catch((e: AzureSpeechError) => this.fail(e));
  }

  write(pcm: Pcm): void {
    if (this.finished || this.failure) return;
    this.stream.write(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength) as ArrayBuffer);
  }

  partial(): string {
    return [...this.segments.map((s) => s[0].text), this.hypothesis].filter(Boolean).join(" ");
  }

  async end(): Promise<Hypothesis[]> {
    if (this.finished) throw new Error("utterance already ended");
    this.finished = true;
    this.stream.close();
    try {
      await this.started;
      await deadline(this.stopped, this.options.resultTimeoutMs ?? 10_000, "waiting for the final result");
      return combine(this.segments);
    } finally {
      this.dispose(); // in the background: the result does not wait for the socket to close
    }
  }

  /** Ends without waiting for a result (recognizer closing). */
  abort(): void {
    if (!this.finished) {
      this.finished = true;
      this.stream.close();
    }
    this.fail(new AzureSpeechError("connection", "the recognizer was closed before the result arrived"));
    this.dispose();
  }

  private fail(e: AzureSpeechError) {
    this.failure ??= e;
    this.failStopped(this.failure);
  }

  private dispose() {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.graceTimer);
    const ms = this.options.closeTimeoutMs ?? 3_000;
    const done = deadline(sdkCall((ok, err) => this.recognizer.close(ok, err)), ms, "closing the recognizer")
      .catch(() => {})
      .finally(() => {
        this.connection.close();
        this.disposals.delete(done);
      });
    this.disposals.add(done);
  }
}

interface DetailedResult {
  RecognitionStatus?: string;
  Offset?: number;
  DisplayText?: string;
  NBest?: { Confidence?: number; Lexical?: string; Display?: string; ITN?: string; Words?: { Word: string; Offset: number; Duration: number }[] }[];
}

const TICKS_PER_SECOND = 10_000_000;

/**
 * The n-best readings of one recognized phrase. Text is the Lexical form (spoken words, numbers as
 * words: closest to the intent grammar). Word times are seconds from the start of the utterance
 * (the SDK's result offset already accounts for reconnects; word offsets are the service's own).
 */
function readings(result: sdk.SpeechRecognitionResult): Hypothesis[] {
  let json: DetailedResult = {};
  try {
    json = JSON.parse(result.json ?? "{}") as DetailedResult;
  } catch {
    /* fall back to the plain text */
  }
  const shift = result.offset - (json.Offset ?? result.offset);
  const out: Hypothesis[] = [];
  for (const n of json.NBest ?? []) {
    const text = (n.Lexical || n.Display || n.ITN || "").trim();
    if (!text || out.some((h) => h.text === text)) continue;
    const h: Hypothesis = { text, confidence: clamp(n.Confidence ?? 1) };
    if (n.Words?.length) {
      h.words = n.Words.map((w) => ({
        word: w.Word,
        start: (w.Offset + shift) / TICKS_PER_SECOND,
        end: (w.Offset + shift + w.Duration) / TICKS_PER_SECOND,
      }));
    }
    out.push(h);
  }
  if (!out.length && result.text?.trim()) out.push({ text: result.text.trim(), confidence: 1 });
  return out.sort((a, b) => b.confidence - a.confidence);
}

function clamp(c: number): number {
  return Math.min(1, Math.max(0, c));
}

/**
 * Joins the phrases of one utterance (the service splits at pauses). The k-th alternative takes
 * each phrase's k-th reading (or its last); confidence is the product.
 */
function combine(segments: Segment[]): Hypothesis[] {
  if (segments.length === 0) return [];
  if (segments.length === 1) return segments[0];
  const n = Math.max(...segments.map((s) => s.length));
  const out: Hypothesis[] = [];
  for (let k = 0; k < n; k++) {
    const parts = segments.map((s) => s[Math.min(k, s.length - 1)]);
    const text = parts.map((p) => p.text).join(" ");
    if (out.some((h) => h.text === text)) continue;
    const words = parts.every((p) => p.words) ? parts.flatMap((p) => p.words!) : undefined;
    out.push({ text, confidence: parts.reduce((c, p) => c * p.confidence, 1), ...(words && { words }) });
  }
  return out;
}
