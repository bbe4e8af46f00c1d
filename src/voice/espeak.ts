import { spawn } from "node:child_process";
import { AudioError, SAMPLE_RATE, type Pcm } from "../audio/types.js";
import type { Synthesizer } from "./synthesizer.js";
import { decodeWav } from "../audio/wav.js";
import { spokenMeasures } from "./speech-format.js";

/**
 * Offline speech with the espeak-ng command line (Debian `espeak-ng`): `espeak-ng -v VOICE -s SPEED
 * -p PITCH --stdout -- TEXT` writes a 22050 Hz mono WAV to stdout, which is resampled to talkcart's
 * 16 kHz (src/audio/wav.ts). The text is passed as one argument without a shell (after `--`, so a
 * reply that starts with "-" is not an option): quotes, umlauts and `$(...)` are just text.
 */

/** The voice for each locale unless told otherwise. Variants append `+NAME`: `en-us+f2`, `de+m3`. */
export const DEFAULT_ESPEAK_VOICES: Readonly<Record<string, string>> = { en: "en-us", de: "de" };

export const INSTALL_HINT = "install it with: sudo apt-get install espeak-ng";

export interface EspeakVoiceOptions {
  /** An espeak-ng voice, optionally with a variant: `en-us`, `en-gb+m3`, `de+f2`. */
  voice: string;
  /** Words per minute (espeak-ng accepts 80-450). Default 160. */
  speed?: number;
  /** 0-99, espeak-ng's default 50. */
  pitch?: number;
  /** 0-200, espeak-ng's default 100. */
  amplitude?: number;
  /** Stops synthesis (the promise rejects with an AbortError). */
  signal?: AbortSignal;
}

export interface EspeakOptions {
  /** One voice for every locale, or a voice per locale (merged over DEFAULT_ESPEAK_VOICES). */
  voice?: string | Record<string, string>;
  speed?: number;
  pitch?: number;
  amplitude?: number;
  /** The espeak-ng binary (a path, or another name on PATH). Default `espeak-ng`. */
  command?: string;
  /** A synthesis that takes longer is killed. Default 20 s. */
  timeoutMs?: number;
}

/** Longer texts go through stdin (`--stdin`) rather than one huge argument (Linux caps one at 128 KiB). */
const MAX_ARGUMENT_CHARS = 30_000;

/** The espeak-ng voice for a locale: an exact key (`en-gb`), else its language (`en`). */
export function espeakVoiceFor(locale: string, voices: Record<string, string> = DEFAULT_ESPEAK_VOICES): string {
  const key = locale.toLowerCase().replace("_", "-");
  const voice = voices[key] ?? voices[key.split("-")[0]];
  if (!voice) {
    throw new AudioError(`no espeak-ng voice configured for locale '${locale}'`, `known locales: ${Object.keys(voices).join(", ")}`);
  }
  return voice;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

function run(command: string, args: string[], opts: { input?: string; timeoutMs: number; signal?: AbortSignal }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError());
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    let settled = false;
    let timedOut = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      child.kill("SIGKILL");
      finish(() => reject(abortError()));
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.stdin.on("error", () => { /* the exit code tells what went wrong */ });
    child.on("error", (e: NodeJS.ErrnoException) => {
      finish(() => reject(e.code === "ENOENT"
        ? new AudioError(`${command} is not installed (or not on PATH), so replies cannot be spoken`, INSTALL_HINT)
        : new AudioError(`cannot run ${command}: ${e.message}`)));
    });
    child.on("close", (code, signal) => {
      if (timedOut) {
        return finish(() => reject(new AudioError(`${command} did not finish within ${opts.timeoutMs} ms`)));
      }
      finish(() => resolve({ code, signal, stdout: Buffer.concat(out), stderr }));
    });
    child.stdin.end(opts.input ?? "");
  });
}

function abortError(): Error {
  const e = new Error("speech synthesis aborted");
  e.name = "AbortError";
  return e;
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= min && value <= max)) {
    throw new RangeError(`espeak-ng ${name} must be between ${min} and ${max} (got ${value})`);
  }
}

/** Speaks with espeak-ng: a voice per locale, 16 kHz mono 16-bit PCM out. */
export class EspeakSynthesizer implements Synthesizer {
  readonly name = "espeak-ng";
  private readonly voices: Record<string, string>;
  private readonly command: string;
  private readonly timeoutMs: number;

  constructor(private readonly opts: EspeakOptions = {}) {
    this.voices = typeof opts.voice === "string"
      ? Object.fromEntries(Object.keys(DEFAULT_ESPEAK_VOICES).map((l) => [l, opts.voice as string]))
      : { ...DEFAULT_ESPEAK_VOICES, ...(opts.voice ?? {}) };
    this.command = opts.command ?? "espeak-ng";
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    checkRange("speed", opts.speed, 80, 450);
    checkRange("pitch", opts.pitch, 0, 99);
    checkRange("amplitude", opts.amplitude, 0, 200);
  }

  synthesize(text: string, locale: string): Promise<Pcm> {
    return this.synthesizeWith(spokenMeasures(text, locale), {
      voice: espeakVoiceFor(locale, this.voices),
      speed: this.opts.speed,
      pitch: this.opts.pitch,
      amplitude: this.opts.amplitude,
    });
  }

  /** Synthesis with an explicit voice and settings (the fixture generator's variants). */
  async synthesizeWith(text: string, v: EspeakVoiceOptions): Promise<Pcm> {
    checkRange("speed", v.speed, 80, 450);
    checkRange("pitch", v.pitch, 0, 99);
    checkRange("amplitude", v.amplitude, 0, 200);
    if (!/^[A-Za-z0-9_+\-/]+$/.test(v.voice)) throw new AudioError(`'${v.voice}' is not an espeak-ng voice name`);
    // NUL cannot travel in an argument; other control characters are just spaces to a speaker.
    const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, " ");
    if (clean.trim() === "") return new Int16Array(0);
    const args = ["-v", v.voice, "-s", String(Math.round(v.speed ?? 160))];
    if (v.pitch !== undefined) args.push("-p", String(Math.round(v.pitch)));
    if (v.amplitude !== undefined) args.push("-a", String(Math.round(v.amplitude)));
    args.push("--stdout");
    const viaStdin = clean.length > MAX_ARGUMENT_CHARS;
    if (viaStdin) args.push("--stdin");
    else args.push("--", clean);
    const r = await run(this.command, args, { input: viaStdin ? clean : undefined, timeoutMs: this.timeoutMs, signal: v.signal });
    if (r.code !== 0) {
      const why = r.stderr.trim().split("\n").filter(Boolean).pop() ?? (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
      const hint = /voice/i.test(why) ? "list the installed voices with: espeak-ng --voices" : undefined;
      throw new AudioError(`espeak-ng could not speak with voice '${v.voice}': ${why}`, hint);
    }
    // The shared WAV reader handles espeak's streamed header (placeholder sizes) and resamples to 16 kHz mono.
    return decodeWav(r.stdout, "espeak-ng output");
  }
}

export type EspeakStatus = { available: true; command: string; version: string } | { available: false; command: string; reason: string };

/** For `talkcart doctor`: is espeak-ng there, and which version (its data path included). */
export async function espeakStatus(command = "espeak-ng"): Promise<EspeakStatus> {
  try {
    const r = await run(command, ["--version"], { timeoutMs: 5_000 });
    if (r.code !== 0) return { available: false, command, reason: r.stderr.trim() || `exit code ${r.code}` };
    return { available: true, command, version: r.stdout.toString("utf8").trim() };
  } catch (e) {
    return { available: false, command, reason: (e as Error).message };
  }
}
