import { writeFile } from "node:fs/promises";
import { endianness } from "node:os";
import { dirname } from "node:path";
import { AudioError, SAMPLE_RATE, type Pcm } from "../audio/types.js";

/**
 * Minimal RIFF/WAVE (PCM, 16-bit) writing and reading for what talkcart produces itself: spoken
 * replies (`--out reply.wav`), audio fixtures, and espeak-ng's `--stdout` stream (whose header
 * carries placeholder sizes, 0x7ffff000-ish, because it is written before the audio is known).
 * General WAV input (any rate, channels, formats) belongs to the audio sources.
 */

const LITTLE_ENDIAN = endianness() === "LE";

/** A canonical 44-byte-header WAV file: 16-bit PCM, mono unless told otherwise. */
export function encodeWav(pcm: Pcm, sampleRate = SAMPLE_RATE, channels = 1): Buffer {
  const dataBytes = pcm.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write("RIFF", 0, "ascii");
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write("WAVE", 8, "ascii");
  out.write("fmt ", 12, "ascii");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels * 2, 28);
  out.writeUInt16LE(channels * 2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "ascii");
  out.writeUInt32LE(dataBytes, 40);
  if (LITTLE_ENDIAN) Buffer.from(pcm.buffer, pcm.byteOffset, dataBytes).copy(out, 44);
  else for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i], 44 + 2 * i);
  return out;
}

/**
 * Writes 16 kHz mono 16-bit PCM as a WAV file: `talkcart speak --out reply.wav`. The directory must
 * exist (no recursive mkdir: on Node 20 it loops forever under /proc).
 */
export async function writeWav(path: string, pcm: Pcm, sampleRate = SAMPLE_RATE): Promise<void> {
  try {
    await writeFile(path, encodeWav(pcm, sampleRate));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT" ? `no such directory ${dirname(path)}` :
      err.code === "EISDIR" ? "it is a directory" :
      err.code === "EACCES" || err.code === "EPERM" || err.code === "EROFS" ? "permission denied" :
      err.code === "ENOTDIR" ? `${dirname(path)} is not a directory` :
      err.message;
    throw new AudioError(`cannot write ${path}: ${why}`);
  }
}

export interface DecodedWav {
  sampleRate: number;
  channels: number;
  /** Interleaved 16-bit samples. */
  samples: Int16Array;
}

/**
 * Reads a 16-bit PCM WAV. Sizes that run past the end of the buffer (streamed headers such as
 * espeak-ng's `--stdout`) are clipped to what is there.
 */
export function decodeWav(buf: Buffer, what = "WAV data"): DecodedWav {
  if (buf.length < 12 || buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") {
    throw new AudioError(`${what} is not a WAV file (no RIFF/WAVE header)`);
  }
  let pos = 12;
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | null = null;
  while (pos + 8 <= buf.length) {
    const id = buf.toString("ascii", pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === "fmt ") {
      if (body + 16 > buf.length) break;
      fmt = { format: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === "data") {
      if (!fmt) throw new AudioError(`${what}: data chunk before the format chunk`);
      if (fmt.format !== 1 || fmt.bits !== 16) {
        throw new AudioError(`${what}: unsupported WAV encoding (format ${fmt.format}, ${fmt.bits}-bit); expected 16-bit PCM`);
      }
      const end = Math.min(buf.length, body + size);
      const bytes = (end - body) & ~1;
      const samples = new Int16Array(bytes / 2);
      if (LITTLE_ENDIAN) Buffer.from(samples.buffer).set(buf.subarray(body, body + bytes));
      else for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + 2 * i);
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples };
    }
    pos = body + size + (size & 1);
  }
  throw new AudioError(`${what}: no audio data (truncated or empty WAV)`);
}
