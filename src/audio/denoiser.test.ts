import { describe, expect, it } from "vitest";
import { Denoiser, denoised } from "./denoiser.js";
import { arraySource } from "./sources.js";
import { readWav } from "./wav.js";

// A committed fixture: "add tea" (en-us voice) with pink noise at 10 dB SNR; speech from 250 ms.
const NOISY = "audio-fixtures/en/en-us-s150/snr10/add-tea-f21b21.wav";
const CLEAN = "audio-fixtures/en/en-us-s150/clean/add-tea-f21b21.wav";

const rms = (pcm: Int16Array, from: number, to: number) => Math.sqrt(pcm.subarray(from, to).reduce((s, x) => s + x * x, 0) / (to - from));

async function run(pcm: Int16Array, chunk: number): Promise<Int16Array> {
  const d = await Denoiser.create();
  const parts: Int16Array[] = [];
  for (let i = 0; i < pcm.length; i += chunk) parts.push(d.process(pcm.subarray(i, i + chunk)));
  parts.push(d.flush());
  d.close();
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

describe("Denoiser (RNNoise through 48 kHz)", () => {
  it("takes the noise down and keeps the speech", async () => {
    const noisy = await readWav(NOISY);
    const out = await run(noisy, 320);
    const noiseOnly = [0, 3200] as const; // the first 200 ms: noise, no speech yet
    expect(rms(out, ...noiseOnly)).toBeLessThan(rms(noisy, ...noiseOnly) / 4);
    const speech = [5000, 12000] as const;
    const clean = await readWav(CLEAN);
    expect(rms(out, ...speech) / rms(clean, ...speech)).toBeGreaterThan(0.6);
    expect(rms(out, ...speech) / rms(clean, ...speech)).toBeLessThan(1.4);
  });

  it("gives back as many samples as it got, the same whatever the chunk size", async () => {
    const noisy = (await readWav(NOISY)).subarray(0, 8_123);
    const byFrames = await run(noisy, 320);
    expect(byFrames.length).toBe(noisy.length);
    expect(Array.from(await run(noisy, 7))).toEqual(Array.from(byFrames));
    expect(Array.from(await run(noisy, 5_000))).toEqual(Array.from(byFrames));
  });

  it("refuses audio after close (its buffers may serve another stream by then)", async () => {
    const d = await Denoiser.create();
    d.close();
    expect(() => d.process(new Int16Array(320))).toThrow(/after close/);
  });

  it("wraps a source: same description and pace, the whole audio through the denoiser", async () => {
    const noisy = await readWav(NOISY);
    const source = denoised(arraySource(noisy, { description: "noisy.wav" }));
    expect(source.description).toBe("noisy.wav");
    expect(source.realtime).toBe(false);
    let samples = 0;
    for await (const chunk of source.chunks()) samples += chunk.length;
    expect(samples).toBe(noisy.length);
    await source.close();
  });
});
