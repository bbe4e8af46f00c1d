import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { S16leDecoder, arraySource, pcmStreamSource, wavFileSource } from "./sources.js";
import { AudioError, type AudioSource, type Pcm } from "./types.js";
import { encodeWav } from "./wav.js";

const dir = mkdtempSync(join(tmpdir(), "talkcart-sources-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(source: AudioSource): Promise<Pcm[]> {
  const out: Pcm[] = [];
  for await (const chunk of source.chunks()) out.push(chunk);
  return out;
}

const joined = (chunks: Pcm[]) => Array.from(chunks.flatMap((c) => Array.from(c)));
const ramp = (n: number) => Int16Array.from({ length: n }, (_, i) => (i * 37) % 30_000 - 15_000);

describe("arraySource", () => {
  it("yields the PCM in 20 ms chunks, the last one shorter", async () => {
    const pcm = ramp(1000);
    const chunks = await collect(arraySource(pcm));
    expect(chunks.map((c) => c.length)).toEqual([320, 320, 320, 40]);
    expect(joined(chunks)).toEqual(Array.from(pcm));
  });

  it("stops after close()", async () => {
    const source = arraySource(ramp(3200), { chunkMs: 10 });
    let n = 0;
    for await (const _ of source.chunks()) if (++n === 3) await source.close();
    expect(n).toBe(3);
  });
});

describe("wavFileSource", () => {
  const file = join(dir, "ramp.wav");
  writeFileSync(file, encodeWav(ramp(16_000)));

  it("reads the whole file as fast as it can by default", async () => {
    const source = wavFileSource(file);
    expect(source).toMatchObject({ description: "ramp.wav", realtime: false });
    const t = performance.now();
    const chunks = await collect(source);
    expect(performance.now() - t).toBeLessThan(500);
    expect(chunks).toHaveLength(50);
    expect(joined(chunks)).toEqual(Array.from(ramp(16_000)));
  });

  it("delivers chunks at the pace of real time when paced, like a microphone", async () => {
    const source = wavFileSource(file, { paced: true });
    expect(source.realtime).toBe(true);
    const t = performance.now();
    const arrivals: number[] = [];
    for await (const _ of source.chunks()) arrivals.push(performance.now() - t);
    expect(arrivals).toHaveLength(50);
    // Chunk i holds audio up to (i + 1) * 20 ms, so it cannot arrive before then; nor drift later.
    arrivals.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual((i + 1) * 20 - 2));
    expect(arrivals[49]).toBeGreaterThanOrEqual(998);
    expect(arrivals[49]).toBeLessThan(1300);
  });

  it("throws an AudioError naming the file when it is not a WAV", async () => {
    const bad = join(dir, "bad.wav");
    writeFileSync(bad, "not audio");
    await expect(collect(wavFileSource(bad))).rejects.toThrow(AudioError);
    await expect(collect(wavFileSource(bad))).rejects.toThrow(`${bad}: too short to be a WAV file`);
  });
});

describe("pcmStreamSource", () => {
  it("turns s16le bytes split at any point (even mid-sample) into the same samples", async () => {
    const pcm = ramp(5001);
    const bytes = Buffer.from(pcm.buffer);
    const stream = new PassThrough();
    const source = pcmStreamSource(stream);
    const done = collect(source);
    // Odd-sized pieces: every other piece boundary falls inside a sample.
    for (let at = 0, size = 1; at < bytes.length; at += size, size = (size * 7 + 3) % 997 || 1) {
      stream.write(bytes.subarray(at, at + size));
    }
    stream.end();
    expect(joined(await done)).toEqual(Array.from(pcm));
  });

  it("reports a failing stream as an AudioError", async () => {
    const stream = new Readable({
      read() {
        this.destroy(new Error("EIO: i/o error, read"));
      },
    });
    const error = await collect(pcmStreamSource(stream, { description: "stdin" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AudioError);
    expect((error as AudioError).message).toBe("stdin: read failed: EIO: i/o error, read");
  });

  it("ends quietly when closed", async () => {
    const stream = new PassThrough();
    const source = pcmStreamSource(stream);
    const done = collect(source);
    stream.write(Buffer.alloc(640));
    await new Promise((r) => setTimeout(r, 10));
    await source.close();
    expect(joined(await done)).toHaveLength(320);
  });
});

describe("S16leDecoder", () => {
  it("carries an odd byte across pushes", () => {
    const d = new S16leDecoder();
    expect(Array.from(d.push(Uint8Array.of(0x01)))).toEqual([]);
    expect(Array.from(d.push(Uint8Array.of(0x02, 0xff)))).toEqual([0x0201]);
    expect(Array.from(d.push(Uint8Array.of(0xff, 0x00, 0x80)))).toEqual([-1, -32768]);
  });
});
