/**
 * WAV in and out. Reading accepts what people actually have (any rate, any channel count, 8/16/24/32-bit
 * integer or 32/64-bit float, plain or WAVE_FORMAT_EXTENSIBLE) and returns talkcart's one internal
 * format: 16 kHz mono Int16. Anything else is an AudioError naming the file and the problem.
 *
 * Why not wavefile for reading: measured here on 10 s of 44.1 kHz stereo float, wavefile took 0.9 s to
 * decode and 1.8 s to resample, and it silently accepts truncated files and throws bare messages
 * ("Not a supported format.") on others. Parsing the RIFF chunks ourselves is small and lets every
 * failure say exactly what is wrong.
 */
import { readFile, writeFile } from "node:fs/promises";
import { resample } from "./resample.js";
import { AudioError, SAMPLE_RATE, type Pcm } from "./types.js";

export type WavEncoding = "int" | "float";

/** What the file holds, before conversion. */
export interface WavFormat {
  encoding: WavEncoding;
  /** Bits per sample as stored (container size: 8, 16, 24, 32 or 64). */
  bitsPerSample: number;
  sampleRate: number;
  channels: number;
  /** Sample frames (one sample per channel) in the data chunk. */
  frames: number;
}

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;
const FORMAT_NAMES: Record<number, string> = {
  0x0002: "MS ADPCM",
  0x0006: "A-law",
  0x0007: "mu-law",
  0x0011: "IMA ADPCM",
  0x0031: "GSM 6.10",
  0x0055: "MP3",
};
/** How to fix an unsupported file, said once for every such error. */
const CONVERT_HINT = "convert it with: sox IN.wav -r 16000 -c 1 -b 16 OUT.wav";

/**
 * Writers streaming to a pipe cannot seek back to fill in sizes: sox and `espeak-ng --stdout` leave
 * 0x7ffff000, ffmpeg 0xffffffff, some 0. Such a size means "until the end of the file".
 */
const isStreamedSize = (size: number) => size >= 0x7fff0000;

/**
 * Finds the format and the sample bytes of a WAV held in memory. `name` is only for messages.
 * Throws AudioError for non-WAV, corrupt, truncated or unsupported content.
 */
export function parseWav(bytes: Uint8Array, name: string): { format: WavFormat; data: Uint8Array } {
  function fail(what: string, hint?: string): never {
    throw new AudioError(`${name}: ${what}`, hint);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12) fail(bytes.length === 0 ? "empty file, not a WAV" : "too short to be a WAV file");
  const riff = tag(0);
  if (riff === "RIFX" || riff === "RF64") fail(`${riff} WAV files are not supported`, CONVERT_HINT);
  if (riff !== "RIFF" || tag(8) !== "WAVE") fail("not a WAV file (no RIFF/WAVE header)");

  let fmt: { encoding: WavEncoding; bits: number; rate: number; channels: number; blockAlign: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id !== "data" && size > bytes.length - body) {
      fail(`truncated WAV: "${id.replace(/[^\x20-\x7e]/g, "?")}" chunk declares ${size} bytes but the file ends first`);
    }
    if (id === "fmt ") {
      if (size < 16) fail("corrupt WAV: fmt chunk too short");
      let code = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const rate = view.getUint32(body + 4, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bits = view.getUint16(body + 14, true);
      if (code === FORMAT_EXTENSIBLE) {
        // The real format code is the first two bytes of the sub-format GUID.
        if (size < 26) fail("corrupt WAV: extensible fmt chunk too short");
        code = view.getUint16(body + 24, true);
      }
      if (code !== FORMAT_PCM && code !== FORMAT_FLOAT) {
        const label = FORMAT_NAMES[code] ?? `format code 0x${code.toString(16).padStart(4, "0")}`;
        fail(`unsupported WAV encoding ${label} (only integer PCM and float are read)`, CONVERT_HINT);
      }
      const encoding: WavEncoding = code === FORMAT_FLOAT ? "float" : "int";
      const container = channels > 0 ? (blockAlign / channels) * 8 : 0;
      if (channels === 0) fail("corrupt WAV: 0 channels");
      if (rate === 0) fail("corrupt WAV: sample rate 0");
      if (blockAlign === 0 || blockAlign % channels !== 0) fail(`corrupt WAV: block align ${blockAlign} for ${channels} channels`);
      const okBits = encoding === "int" ? [8, 16, 24, 32] : [32, 64];
      if (!okBits.includes(container)) {
        fail(`unsupported WAV sample size: ${bits}-bit ${encoding} in ${container}-bit containers`, CONVERT_HINT);
      }
      fmt = { encoding, bits: container, rate, channels, blockAlign };
    } else if (id === "data") {
      if (!fmt) fail("corrupt WAV: data chunk before fmt chunk");
      const available = bytes.length - body;
      let length = size;
      const riffSize = view.getUint32(4, true);
      if (size > available) {
        if (!isStreamedSize(size)) {
          fail(`truncated WAV: data chunk declares ${size} bytes but only ${available} are present`);
        }
        length = available;
      } else if (size === 0 && (riffSize === 0 || isStreamedSize(riffSize))) {
        length = available;
      }
      const f = fmt;
      const frames = Math.floor(length / f.blockAlign);
      return {
        format: { encoding: f.encoding, bitsPerSample: f.bits, sampleRate: f.rate, channels: f.channels, frames },
        data: bytes.subarray(body, body + frames * f.blockAlign),
      };
    }
    at = body + size + (size & 1); // chunks are padded to an even length
  }
  return fail(fmt ? "truncated WAV: no data chunk" : "corrupt WAV: no fmt chunk");
}

/** Mixes all channels of the data chunk into one channel, scaled to the Int16 range. */
function toMonoFloat(format: WavFormat, data: Uint8Array): Float32Array {
  const { channels, frames, bitsPerSample: bits, encoding } = format;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const bytesPer = bits / 8;
  const out = new Float32Array(frames);
  const read: (at: number) => number =
    encoding === "float"
      ? bits === 32
        ? (at) => view.getFloat32(at, true) * 32768
        : (at) => view.getFloat64(at, true) * 32768
      : bits === 8
        ? (at) => (view.getUint8(at) - 128) * 256 // 8-bit WAV is unsigned
        : bits === 16
          ? (at) => view.getInt16(at, true)
          : bits === 24
            ? (at) => ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 256)
            : (at) => view.getInt32(at, true) / 65536;
  const gain = 1 / channels;
  let at = 0;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, at += bytesPer) sum += read(at);
    out[i] = sum * gain;
  }
  return out;
}

function toInt16(x: Float32Array): Pcm {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.round(x[i]);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v; // float files may exceed full scale
  }
  return out;
}

/** Decodes a WAV held in memory to 16 kHz mono Int16. `name` is only for messages. */
export function decodeWav(bytes: Uint8Array, name: string): Pcm {
  const { format, data } = parseWav(bytes, name);
  // The common case (already 16 kHz mono 16-bit) is a plain copy: no float round trip.
  if (format.encoding === "int" && format.bitsPerSample === 16 && format.channels === 1 && format.sampleRate === SAMPLE_RATE) {
    const out = new Int16Array(format.frames);
    new Uint8Array(out.buffer).set(data.subarray(0, format.frames * 2)); // little-endian host assumed (x86, ARM)
    return out;
  }
  const mono = toMonoFloat(format, data);
  return toInt16(format.sampleRate === SAMPLE_RATE ? mono : resample(mono, format.sampleRate, SAMPLE_RATE));
}

/** Reads a WAV file as 16 kHz mono Int16; every failure is an AudioError naming the file. */
export async function readWav(path: string): Promise<Pcm> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw fileError(path, e, "read");
  }
  return decodeWav(bytes, path);
}

/** A 16-bit PCM WAV (mono unless `channels` says otherwise) as bytes. */
export function encodeWav(pcm: Pcm, sampleRate: number = SAMPLE_RATE, channels = 1): Buffer {
  const dataBytes = pcm.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write("RIFF", 0, "ascii");
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write("WAVE", 8, "ascii");
  out.write("fmt ", 12, "ascii");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(FORMAT_PCM, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels * 2, 28);
  out.writeUInt16LE(channels * 2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "ascii");
  out.writeUInt32LE(dataBytes, 40);
  Buffer.from(pcm.buffer, pcm.byteOffset, dataBytes).copy(out, 44);
  return out;
}

/** Writes PCM as a 16-bit WAV file (16 kHz mono by default). */
export async function writeWav(path: string, pcm: Pcm, sampleRate: number = SAMPLE_RATE): Promise<void> {
  try {
    await writeFile(path, encodeWav(pcm, sampleRate));
  } catch (e) {
    throw fileError(path, e, "write");
  }
}

/** File-system failures as one line, not a Node stack trace. */
function fileError(path: string, e: unknown, verb: "read" | "write"): AudioError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === "ENOENT" ? "no such file" :
    code === "EISDIR" ? "is a directory, not a WAV file" :
    code === "EACCES" || code === "EPERM" ? "permission denied" :
    (e as Error).message;
  return new AudioError(`${path}: cannot ${verb} WAV: ${why}`);
}
