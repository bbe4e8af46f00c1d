import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { AudioError, SAMPLE_RATE } from "../audio/types.js";
import { EspeakSynthesizer, espeakStatus, espeakVoiceFor } from "./espeak.js";

const status = await espeakStatus();
const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));
const peak = (x: Int16Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const seconds = (x: Int16Array) => x.length / SAMPLE_RATE;
const same = (a: Int16Array, b: Int16Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Samples of espeak-ng's own 22050 Hz output for the same text (header skipped). */
function rawSamples(voice: string, text: string): number {
  const wav = execFileSync("espeak-ng", ["-v", voice, "-s", "160", "--stdout", "--", text]);
  return (wav.length - 44) >> 1;
}

describe.skipIf(!status.available)("EspeakSynthesizer (espeak-ng installed)", () => {
  const synth = new EspeakSynthesizer();

  it("speaks English as non-silent 16 kHz PCM of plausible length", async () => {
    const text = "add two packs of coffee to my cart";
    const pcm = await synth.synthesize(text, "en");
    expect(pcm).toBeInstanceOf(Int16Array);
    // Seven words at 160 wpm: about 2.6 s of speech plus espeak-ng's trailing pause.
    expect(seconds(pcm)).toBeGreaterThan(1.5);
    expect(seconds(pcm)).toBeLessThan(5);
    expect(rms(pcm)).toBeGreaterThan(500);
    expect(peak(pcm)).toBeGreaterThan(5000);
    // Resampled, not reinterpreted: 22050 Hz samples x 16000/22050.
    expect(Math.abs(pcm.length - Math.floor((rawSamples("en-us", text) * 16000) / 22050))).toBeLessThanOrEqual(1);
  });

  it("speaks German with umlauts and quotes intact (text is an argument, no shell)", async () => {
    const text = "Füge zwei Packungen „Kaffee“ hinzu – Größe: groß, bitte schön.";
    const pcm = await synth.synthesize(text, "de");
    expect(seconds(pcm)).toBeGreaterThan(2);
    expect(seconds(pcm)).toBeLessThan(7);
    expect(rms(pcm)).toBeGreaterThan(500);
    expect(Math.abs(pcm.length - Math.floor((rawSamples("de", text) * 16000) / 22050))).toBeLessThanOrEqual(1);
    // The umlaut reaches espeak-ng as an umlaut: "schön" and "schon" sound different.
    expect(same(await synth.synthesize("schön", "de"), await synth.synthesize("schon", "de"))).toBe(false);
  });

  it("passes shell metacharacters and a leading dash as plain text", async () => {
    const pcm = await synth.synthesize(`-5 degrees; it's "fine" $(touch /tmp/talkcart-pwned) \`id\` & more`, "en");
    expect(seconds(pcm)).toBeGreaterThan(1);
    expect(rms(pcm)).toBeGreaterThan(300);
  });

  it("returns empty PCM for empty text without running espeak-ng", async () => {
    const broken = new EspeakSynthesizer({ command: "/nonexistent/espeak-ng" });
    expect((await broken.synthesize("   ", "en")).length).toBe(0);
  });

  it("is deterministic, and speed and pitch options take effect", async () => {
    const a = await synth.synthesize("check out", "en");
    expect(same(a, await synth.synthesize("check out", "en"))).toBe(true);
    const slow = await new EspeakSynthesizer({ speed: 100 }).synthesize("what is in my cart", "en");
    const fast = await new EspeakSynthesizer({ speed: 300 }).synthesize("what is in my cart", "en");
    expect(seconds(slow)).toBeGreaterThan(seconds(fast) * 1.5);
    const high = await new EspeakSynthesizer({ pitch: 90 }).synthesize("check out", "en");
    expect(same(a, high)).toBe(false);
  });

  it("says sizes as words, not letters: \"500 g\" as \"five hundred grams\"", async () => {
    const written = await synth.synthesize("Lavazza Crema (500 g)", "en");
    expect(same(written, await synth.synthesizeWith("Lavazza Crema (five hundred grams)", { voice: "en-us" }))).toBe(true);
    expect(same(written, await synth.synthesizeWith("Lavazza Crema (500 g)", { voice: "en-us" }))).toBe(false);
  });

  it("uses a voice per locale, overridable, with variants", async () => {
    expect(espeakVoiceFor("en")).toBe("en-us");
    expect(espeakVoiceFor("de-DE")).toBe("de");
    const gb = new EspeakSynthesizer({ voice: { en: "en-gb+m3" } });
    expect(same(await gb.synthesize("tomato", "en"), await synth.synthesize("tomato", "en"))).toBe(false);
    expect(() => espeakVoiceFor("fr")).toThrow(/no espeak-ng voice configured for locale 'fr'/);
  });

  it("reports an unknown voice clearly", async () => {
    const bad = new EspeakSynthesizer({ voice: "xx-nope" });
    await expect(bad.synthesize("hello", "en")).rejects.toThrow(/could not speak with voice 'xx-nope'.*espeak-ng --voices/);
  });

  it("can be aborted (barge-in during synthesis)", async () => {
    const ac = new AbortController();
    const p = synth.synthesizeWith("a long reply ".repeat(200), { voice: "en-us", signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("espeak-ng missing", () => {
  it("is a clear AudioError naming the install command", async () => {
    const synth = new EspeakSynthesizer({ command: "talkcart-no-such-espeak-ng" });
    const err = await synth.synthesize("hello", "en").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AudioError);
    expect((err as Error).message).toMatch(/talkcart-no-such-espeak-ng is not installed.*apt-get install espeak-ng/);
    const s = await espeakStatus("talkcart-no-such-espeak-ng");
    expect(s.available).toBe(false);
  });

  it("rejects out-of-range options", () => {
    expect(() => new EspeakSynthesizer({ speed: 20 })).toThrow(/speed must be between 80 and 450/);
    expect(() => new EspeakSynthesizer({ pitch: 120 })).toThrow(/pitch/);
  });
});

