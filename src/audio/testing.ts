/**
 * Test audio with a known truth: speech rendered by espeak-ng, padded with silence, mixed with seeded
 * noise at a chosen SNR. Used by the audio tests and the endpointing measurements; deterministic for
 * a given text, voice and seed.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import seedrandom from "seedrandom";
import { decodeWav } from "./wav.js";
import { SAMPLE_RATE, type Pcm } from "./types.js";

const run = promisify(execFile);

export interface EspeakOptions {
  voice?: string;
  /** Words per minute (espeak-ng -s). */
  speed?: number;
}

/** Raw espeak-ng output for `text` (a 22 050 Hz WAV file's bytes). */
export async function espeakWav(text: string, options: EspeakOptions = {}): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "talkcart-espeak-"));
  try {
    const out = join(dir, "out.wav");
    await run("espeak-ng", ["-v", options.voice ?? "en-us", "-s", String(options.speed ?? 160), "-w", out, text]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `text` spoken by espeak-ng, as 16 kHz mono (resampled by our WAV reader). */
export async function espeakPcm(text: string, options: EspeakOptions = {}): Promise<Pcm> {
  return decodeWav(await espeakWav(text, options), `espeak "${text}"`);
}

export function silence(ms: number): Pcm {
  return new Int16Array(Math.round((ms * SAMPLE_RATE) / 1000));
}

export function concat(...parts: Pcm[]): Pcm {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function rms(pcm: Pcm, from = 0, to = pcm.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += pcm[i] * pcm[i];
  return to > from ? Math.sqrt(sum / (to - from)) : 0;
}

/**
 * Where the speech is in a clean signal: first and last 10 ms block whose RMS is within 40 dB of the
 * loudest block. espeak-ng's output is digital silence between words, so this is the truth to compare
 * an endpointer against.
 */
export function speechBounds(clean: Pcm): { startMs: number; endMs: number } {
  const block = SAMPLE_RATE / 100;
  const levels: number[] = [];
  for (let at = 0; at + block <= clean.length; at += block) levels.push(rms(clean, at, at + block));
  const threshold = Math.max(...levels) / 100;
  const first = levels.findIndex((l) => l > threshold);
  const last = levels.length - 1 - [...levels].reverse().findIndex((l) => l > threshold);
  if (first < 0) throw new Error("no speech in signal");
  return { startMs: first * 10, endMs: (last + 1) * 10 };
}

/**
 * Adds white Gaussian noise (seeded) at `snrDb` relative to `speechRms` (default: the RMS over the
 * speech itself, from `speechBounds`), clipping to 16 bits.
 */
export function addWhiteNoise(clean: Pcm, snrDb: number, seed: string, speechRms?: number): Pcm {
  let level = speechRms;
  if (level === undefined) {
    const { startMs, endMs } = speechBounds(clean);
    level = rms(clean, (startMs * SAMPLE_RATE) / 1000, (endMs * SAMPLE_RATE) / 1000);
  }
  const sigma = level / 10 ** (snrDb / 20);
  const rng = seedrandom(seed);
  const out = new Int16Array(clean.length);
  for (let i = 0; i < clean.length; i++) {
    // Box–Muller: two uniforms -> one standard normal.
    const u = rng() || Number.MIN_VALUE;
    const n = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
    const v = Math.round(clean[i] + sigma * n);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}
