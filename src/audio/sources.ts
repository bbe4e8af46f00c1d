/**
 * AudioSource implementations that are not a microphone: a WAV file (optionally at real-time pace, to
 * exercise the live loop in tests), raw PCM on a stream such as stdin, and an in-memory array.
 */
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { readWav } from "./wav.js";
import { AudioError, SAMPLE_RATE, type AudioSource, type Pcm } from "./types.js";

/** 20 ms: the frame size the endpointer's VAD works in, and what a microphone delivers about as often. */
export const DEFAULT_CHUNK_MS = 20;

export interface ChunkOptions {
  /** Length of each chunk in milliseconds (default 20). */
  chunkMs?: number;
}

export interface WavFileSourceOptions extends ChunkOptions {
  /** Deliver chunks at the pace of real time, like a microphone (default false: as fast as read). */
  paced?: boolean;
}

const samplesPer = (ms: number) => Math.max(1, Math.round((ms * SAMPLE_RATE) / 1000));

/**
 * Yields `pcm` in chunks; with `paced`, chunk i is released at start + i * chunkMs (scheduled against
 * the clock, not chained sleeps, so timer lateness does not accumulate into drift).
 */
async function* chunked(pcm: Pcm, chunkMs: number, paced: boolean, isClosed: () => boolean): AsyncGenerator<Pcm> {
  const size = samplesPer(chunkMs);
  const start = performance.now();
  for (let at = 0, i = 0; at < pcm.length; at += size, i++) {
    if (paced) {
      // A chunk exists only once its last sample has been "recorded".
      const due = start + (i + 1) * chunkMs - performance.now();
      if (due > 0) await sleep(due);
    }
    if (isClosed()) return;
    yield pcm.subarray(at, Math.min(pcm.length, at + size));
  }
}

/**
 * A WAV file as a source (any format `readWav` takes). The file is read when `chunks()` is first
 * iterated, so a bad file surfaces there as an AudioError.
 */
export function wavFileSource(path: string, options: WavFileSourceOptions = {}): AudioSource {
  const paced = options.paced ?? false;
  let closed = false;
  return {
    description: paced ? `${basename(path)} (real-time pace)` : basename(path),
    realtime: paced,
    async *chunks() {
      const pcm = await readWav(path);
      yield* chunked(pcm, options.chunkMs ?? DEFAULT_CHUNK_MS, paced, () => closed);
    },
    async close() {
      closed = true;
    },
  };
}

/** PCM already in memory (tests, audio decoded elsewhere). */
export function arraySource(pcm: Pcm, options: ChunkOptions & { description?: string } = {}): AudioSource {
  let closed = false;
  return {
    description: options.description ?? `${(pcm.length / SAMPLE_RATE).toFixed(2)} s of audio in memory`,
    realtime: false,
    chunks: () => chunked(pcm, options.chunkMs ?? DEFAULT_CHUNK_MS, false, () => closed),
    async close() {
      closed = true;
    },
  };
}

/**
 * Turns byte chunks of s16le into Int16Array chunks. Pipes split data anywhere, including in the
 * middle of a sample, so an odd trailing byte is carried into the next chunk. Each output chunk owns
 * a fresh, aligned buffer (a Buffer's byteOffset may be odd, which an Int16Array view cannot take).
 */
export class S16leDecoder {
  private carry: number | undefined;

  push(bytes: Uint8Array): Pcm {
    let input = bytes;
    if (this.carry !== undefined) {
      input = new Uint8Array(bytes.length + 1);
      input[0] = this.carry;
      input.set(bytes, 1);
      this.carry = undefined;
    }
    const whole = input.length & ~1;
    if (whole < input.length) this.carry = input[whole];
    const out = new Int16Array(whole / 2);
    new Uint8Array(out.buffer).set(input.subarray(0, whole)); // little-endian host assumed (x86, ARM)
    return out;
  }
}

export interface PcmStreamSourceOptions {
  description?: string;
  /** Whether the bytes arrive at real-time pace (e.g. `rec ... | talkcart listen --stdin`). Default false. */
  realtime?: boolean;
}

/**
 * Raw 16 kHz mono s16le on a readable stream, e.g. `process.stdin`. Stream errors become AudioErrors.
 * The stream is consumed once: `chunks()` may be iterated by one consumer.
 */
export function pcmStreamSource(readable: Readable, options: PcmStreamSourceOptions = {}): AudioSource {
  const description = options.description ?? "raw 16 kHz mono s16le stream";
  let closed = false;
  return {
    description,
    realtime: options.realtime ?? false,
    async *chunks() {
      const decoder = new S16leDecoder();
      try {
        for await (const chunk of readable) {
          if (closed) return;
          const bytes = typeof chunk === "string" ? Buffer.from(chunk, "latin1") : (chunk as Uint8Array);
          const pcm = decoder.push(bytes);
          if (pcm.length > 0) yield pcm;
        }
      } catch (e) {
        if (closed) return;
        throw new AudioError(`${description}: read failed: ${(e as Error).message ?? String(e)}`);
      }
    },
    async close() {
      closed = true;
      readable.destroy();
    },
  };
}
