/**
 * What the Azure Speech recognizer (src/speech/azure.ts) and synthesizer (src/voice/azure-tts.ts)
 * share: settings from the environment, SpeechConfig construction, locale mapping, deadlines and
 * the typed error every failure becomes.
 */
import * as sdk from "microsoft-cognitiveservices-speech-sdk";
import { SpeechServiceError } from "./types.js";

/** Where to reach the service. One of region, endpoint or host is set. */
export interface AzureSpeechSettings {
  key: string;
  region?: string;
  /** Full websocket URL (AZURE_SPEECH_ENDPOINT), passed to `SpeechConfig.fromEndpoint`. */
  endpoint?: URL;
  /** Scheme and host only (AZURE_SPEECH_HOST, or an endpoint without a path): `SpeechConfig.fromHost`. */
  host?: URL;
}

export const AZURE_ENV_HELP =
  "set AZURE_SPEECH_KEY and AZURE_SPEECH_REGION (or AZURE_SPEECH_ENDPOINT / AZURE_SPEECH_HOST instead of the region)";

/** Reads the settings; returns a one-line reason instead when they are missing or malformed. */
export function azureSpeechSettings(env: Record<string, string | undefined> = process.env): AzureSpeechSettings | { missing: string } {
  const key = env.AZURE_SPEECH_KEY?.trim();
  const region = env.AZURE_SPEECH_REGION?.trim() || undefined;
  const endpoint = env.AZURE_SPEECH_ENDPOINT?.trim() || undefined;
  const host = env.AZURE_SPEECH_HOST?.trim() || undefined;
  if (!key) return { missing: `AZURE_SPEECH_KEY is not set: ${AZURE_ENV_HELP}` };
  if (!region && !endpoint && !host) return { missing: `AZURE_SPEECH_REGION is not set: ${AZURE_ENV_HELP}` };
  const settings: AzureSpeechSettings = { key, region };
  try {
    if (host) settings.host = new URL(host);
    if (endpoint) {
      const url = new URL(endpoint);
      // An endpoint without a path makes the SDK fetch https://host/...?GenerateRedirectResponse=true first:
      // treat it as a host instead.
      if (url.pathname === "" || url.pathname === "/") settings.host ??= new URL(url.origin);
      else settings.endpoint = url;
    }
  } catch {
    return { missing: `AZURE_SPEECH_ENDPOINT / AZURE_SPEECH_HOST is not a URL (e.g. wss://westeurope.stt.speech.microsoft.com)` };
  }
  return settings;
}

/**
 * A SpeechConfig for speech-to-text ("stt") or text-to-speech ("tts"). An endpoint URL is an STT
 * path, so TTS uses the region when there is one, else the endpoint's host.
 */
export function speechConfigFor(s: AzureSpeechSettings, use: "stt" | "tts"): sdk.SpeechConfig {
  if (use === "stt" && s.endpoint) return sdk.SpeechConfig.fromEndpoint(s.endpoint, s.key);
  if (s.host) return sdk.SpeechConfig.fromHost(s.host, s.key);
  if (s.region) return sdk.SpeechConfig.fromSubscription(s.key, s.region);
  return sdk.SpeechConfig.fromHost(new URL(s.endpoint!.origin), s.key);
}

const LANGUAGES: Record<string, string> = { en: "en-US", de: "de-DE" };

/** talkcart locale -> Azure language: en -> en-US, de -> de-DE; full tags (en-GB) pass through. */
export function azureLanguage(locale: string): string {
  return LANGUAGES[locale] ?? (locale.includes("-") ? locale : `${locale}-${locale.toUpperCase()}`);
}

export type AzureFailure = "auth" | "connection" | "timeout" | "service" | "bad-request" | "throttled";

/**
 * The Azure Speech service failed: bad key, no connection, dropped connection, service error,
 * or no answer within the deadline. The dialogue says a short apology (and may fall back to an
 * offline engine); `kind` says which failure, `retryable` whether trying again can help.
 */
export class AzureSpeechError extends SpeechServiceError {
  readonly engine = "azure";
  constructor(
    readonly kind: AzureFailure,
    message: string,
    readonly details?: string,
  ) {
    super(`Azure Speech: ${message}`);
    this.name = "AzureSpeechError";
  }

  get retryable(): boolean {
    return this.kind !== "auth" && this.kind !== "bad-request";
  }
}

/** Turns an SDK cancellation (code and details text) into the typed error. */
export function cancellationError(code: sdk.CancellationErrorCode, details: string): AzureSpeechError {
  const C = sdk.CancellationErrorCode;
  // A refused websocket upgrade arrives as "... Unexpected server response: 401".
  const status = /(?:server response|StatusCode|HTTP)\D{0,3}(\d{3})\b/i.exec(details)?.[1];
  const http = status === "401" || status === "403" ? status : undefined;
  if (status === "429") return new AzureSpeechError("throttled", "too many requests for this key (HTTP 429)", details);
  if (code === C.AuthenticationFailure || http) {
    return new AzureSpeechError("auth", `the service refused the key${http ? ` (HTTP ${http})` : ""}: check AZURE_SPEECH_KEY and AZURE_SPEECH_REGION`, details);
  }
  switch (code) {
    case C.ConnectionFailure:
      return new AzureSpeechError("connection", `lost the connection to the service (${shorten(details)})`, details);
    case C.ServiceTimeout:
      return new AzureSpeechError("timeout", "the service timed out", details);
    case C.BadRequestParameters:
      return new AzureSpeechError("bad-request", `the service rejected the request (${shorten(details)})`, details);
    case C.TooManyRequests:
      return new AzureSpeechError("throttled", "too many requests for this key", details);
    default:
      return new AzureSpeechError("service", `service error (${shorten(details) || sdk.CancellationErrorCode[code]})`, details);
  }
}

function shorten(details: string): string {
  return details.replace(/\s+/g, " ").trim().slice(0, 160);
}

/**
 * Settles with `promise`, or rejects with a "timeout" AzureSpeechError after `ms` — the SDK's own
 * promises and callbacks never time out. `onTimeout` runs when the deadline hits (e.g. to close the SDK object).
 */
export function deadline<T>(promise: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new AzureSpeechError("timeout", `no answer within ${(ms / 1000).toFixed(1)} s (${what})`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An SDK call taking (ok, error) callbacks as a promise; the SDK rejects with strings, made typed errors here. */
export function sdkCall<T = void>(call: (ok: (v: T) => void, err: (e: string) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      call(resolve, (e) => reject(cancellationError(sdk.CancellationErrorCode.RuntimeError, String(e))));
    } catch (e) {
      reject(e instanceof AzureSpeechError ? e : new AzureSpeechError("service", String((e as Error)?.message ?? e)));
    }
  });
}
