import { describe, expect, it } from "vitest";
import { resample } from "./resample.js";

function sine(freq: number, rate: number, seconds: number, amplitude = 10_000): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
}

/** RMS away from the edges (the filter sees zeros beyond them). */
function rmsMiddle(x: Float32Array): number {
  const from = Math.floor(x.length * 0.1);
  const to = Math.floor(x.length * 0.9);
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / (to - from));
}

/** Amplitude of `freq` in x (a single-bin DFT over the middle part). */
function toneAmplitude(x: Float32Array, freq: number, rate: number): number {
  const from = Math.floor(x.length * 0.1);
  const to = Math.floor(x.length * 0.9);
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += x[i] * Math.cos((2 * Math.PI * freq * i) / rate);
    im += x[i] * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

describe("resample", () => {
  it("gives round(n * to / from) samples", () => {
    expect(resample(new Float32Array(44_100), 44_100, 16_000)).toHaveLength(16_000);
    expect(resample(new Float32Array(40_508), 22_050, 16_000)).toHaveLength(29_394);
    expect(resample(new Float32Array(8_000), 8_000, 16_000)).toHaveLength(16_000);
    expect(resample(new Float32Array(0), 48_000, 16_000)).toHaveLength(0);
  });

  it.each([
    [44_100, 1000],
    [22_050, 440],
    [48_000, 3000],
    [8_000, 1000],
    [11_025, 2500],
  ])("keeps a tone in the pass band: %i Hz -> 16 kHz, %i Hz sine", (rate, freq) => {
    const out = resample(sine(freq, rate, 0.5), rate, 16_000);
    expect(toneAmplitude(out, freq, 16_000)).toBeGreaterThan(9_900);
    expect(toneAmplitude(out, freq, 16_000)).toBeLessThan(10_100);
  });

  it("removes what lies above the new Nyquist instead of folding it into the speech band", () => {
    // 10 kHz at 44.1 kHz would alias to 6 kHz at 16 kHz without the low-pass.
    const out = resample(sine(10_000, 44_100, 0.5), 44_100, 16_000);
    expect(rmsMiddle(out) / (10_000 / Math.SQRT2)).toBeLessThan(0.001); // below -60 dB
  });

  it("converts 10 s of 44.1 kHz in well under real time", () => {
    const x = sine(440, 44_100, 10);
    resample(x.subarray(0, 44_100), 44_100, 16_000); // warm up the JIT
    const t = performance.now();
    resample(x, 44_100, 16_000);
    expect(performance.now() - t).toBeLessThan(1000); // measured ~75 ms on the 2-core CI machine
  });
});
