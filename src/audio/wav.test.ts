import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wavefile from "wavefile";
import { afterAll, describe, expect, it } from "vitest";
import { decodeWav, encodeWav, parseWav, readWav, writeWav } from "./wav.js";
import { espeakWav } from "./testing.js";
import { AudioError } from "./types.js";

const dir = mkdtempSync(join(tmpdir(), "talkcart-wav-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sox = (...args: string[]) => execFileSync("sox", args, { stdio: ["ignore", "pipe", "pipe"] });
const path = (name: string) => join(dir, name);

async function audioError(p: Promise<unknown>): Promise<AudioError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AudioError);
  return e as AudioError;
}

/** Signal-to-error ratio in dB of `x` against reference `ref` (same length within a few samples). */
function snrDb(x: Int16Array, ref: Int16Array): number {
  const n = Math.min(x.length, ref.length);
  let s = 0;
  let e = 0;
  for (let i = 0; i < n; i++) {
    s += ref[i] * ref[i];
    e += (x[i] - ref[i]) ** 2;
  }
  return 10 * Math.log10(s / Math.max(e, 1));
}

describe("readWav", () => {
  it("reads a stereo 44.1 kHz float file as 16 kHz mono of the right length", async () => {
    sox("-n", "-r", "44100", "-c", "2", "-e", "floating-point", "-b", "32", path("f.wav"), "synth", "1", "sine", "440");
    expect(parseWav(readFileSync(path("f.wav")), "f.wav").format).toMatchObject({ encoding: "float", bitsPerSample: 32, sampleRate: 44_100, channels: 2, frames: 44_100 });
    const pcm = await readWav(path("f.wav"));
    expect(pcm).toBeInstanceOf(Int16Array);
    expect(pcm).toHaveLength(16_000);
    // sox's synth sine peaks at 0.705 of full scale (sox -n stat): the same on both channels.
    const peak = Math.max(...pcm.subarray(1000, 15_000).map(Math.abs));
    expect(peak).toBeGreaterThan(0.69 * 32_768);
    expect(peak).toBeLessThan(0.72 * 32_768);
  });

  it("resamples espeak-ng's 22 050 Hz output to 16 kHz", async () => {
    const bytes = await espeakWav("add two packs of coffee");
    const { format } = parseWav(bytes, "espeak");
    expect(format.sampleRate).toBe(22_050);
    const pcm = decodeWav(bytes, "espeak");
    expect(pcm.length).toBe(Math.round((format.frames * 16_000) / 22_050));
  });

  // Every encoding the reader claims, made by sox, checked against sox's own conversion to 16 kHz
  // mono 16-bit (an independent resampler): agreement within 30 dB SNR means same signal, same timing.
  it.each([
    ["8-bit unsigned 8 kHz mono", ["-r", "8000", "-c", "1", "-e", "unsigned-integer", "-b", "8"]],
    ["16-bit 16 kHz mono", ["-r", "16000", "-c", "1", "-e", "signed-integer", "-b", "16"]],
    ["16-bit 48 kHz stereo", ["-r", "48000", "-c", "2", "-e", "signed-integer", "-b", "16"]],
    ["24-bit 44.1 kHz stereo (extensible)", ["-r", "44100", "-c", "2", "-e", "signed-integer", "-b", "24"]],
    ["32-bit int 22.05 kHz mono", ["-r", "22050", "-c", "1", "-e", "signed-integer", "-b", "32"]],
    ["64-bit float 32 kHz 3 channels", ["-r", "32000", "-c", "3", "-e", "floating-point", "-b", "64"]],
  ])("reads %s like sox does", async (label, args) => {
    const file = path(`${label.replace(/\W+/g, "_")}.wav`);
    // A chirp covers the band and is no help to a reader that gets timing or channels wrong.
    sox("-n", ...args, file, "synth", "0.5", "sine", "200-3000", "vol", "0.5");
    const reference = path("ref.wav");
    sox(file, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", reference);
    const ours = await readWav(file);
    const theirs = await readWav(reference);
    expect(Math.abs(ours.length - theirs.length)).toBeLessThanOrEqual(1);
    expect(snrDb(ours, theirs)).toBeGreaterThan(label.startsWith("8-bit") ? 25 : 30);
  });

  it("reads a WAV written to a pipe (sizes left at 0x7ffff000)", async () => {
    const bytes = sox("-n", "-r", "16000", "-c", "1", "-b", "16", "-t", "wav", "-", "synth", "0.25", "sine", "300");
    expect(bytes.readUInt32LE(40)).toBe(0x7ffff000);
    expect(decodeWav(bytes, "piped.wav")).toHaveLength(4000);
  });

  it("says a truncated file is truncated, naming it", async () => {
    sox("-n", "-r", "44100", "-c", "2", "-e", "floating-point", "-b", "32", path("whole.wav"), "synth", "1", "sine", "440");
    writeFileSync(path("cut.wav"), readFileSync(path("whole.wav")).subarray(0, 30_000));
    const e = await audioError(readWav(path("cut.wav")));
    expect(e.message).toContain(path("cut.wav"));
    expect(e.message).toMatch(/truncated WAV: data chunk declares 352800 bytes but only \d+ are present/);
    expect(e.stack ?? "").not.toContain("wavefile");
  });

  it("says a text file renamed .wav is not a WAV, naming it", async () => {
    writeFileSync(path("notes.wav"), "shopping list: coffee, milk, two packs of eggs\n");
    const e = await audioError(readWav(path("notes.wav")));
    expect(e.message).toBe(`${path("notes.wav")}: not a WAV file (no RIFF/WAVE header)`);
  });

  it("says what is wrong with empty, missing, header-only and unsupported files", async () => {
    writeFileSync(path("empty.wav"), "");
    expect((await audioError(readWav(path("empty.wav")))).message).toMatch(/empty\.wav: empty file, not a WAV$/);
    expect((await audioError(readWav(path("nope.wav")))).message).toMatch(/nope\.wav: cannot read WAV: no such file$/);
    expect((await audioError(readWav(dir))).message).toMatch(/is a directory/);
    // Cut right before "data" (after sox's 18-byte fmt and its fact chunk), then inside the fmt chunk.
    writeFileSync(path("header.wav"), readFileSync(path("whole.wav")).subarray(0, 50));
    expect((await audioError(readWav(path("header.wav")))).message).toMatch(/header\.wav: truncated WAV: no data chunk$/);
    writeFileSync(path("fmt.wav"), readFileSync(path("whole.wav")).subarray(0, 30));
    expect((await audioError(readWav(path("fmt.wav")))).message).toMatch(/fmt\.wav: truncated WAV: "fmt " chunk declares 18 bytes but the file ends first$/);

    sox("-n", "-r", "8000", "-c", "1", "-e", "a-law", path("alaw.wav"), "synth", "0.1", "sine", "300");
    const alaw = await audioError(readWav(path("alaw.wav")));
    expect(alaw.message).toMatch(/alaw\.wav: unsupported WAV encoding A-law/);
    expect(alaw.hint).toMatch(/sox IN\.wav -r 16000 -c 1 -b 16 OUT\.wav/);

    sox("-n", "-r", "8000", "-c", "1", "-e", "ima-adpcm", path("adpcm.wav"), "synth", "0.1", "sine", "300");
    expect((await audioError(readWav(path("adpcm.wav")))).message).toMatch(/unsupported WAV encoding IMA ADPCM/);

    // A fmt chunk that lies: zero channels.
    const bad = Buffer.from(readFileSync(path("whole.wav")));
    bad.writeUInt16LE(0, 22);
    writeFileSync(path("zero.wav"), bad);
    expect((await audioError(readWav(path("zero.wav")))).message).toMatch(/zero\.wav: corrupt WAV: 0 channels/);
  });
});

describe("writeWav / encodeWav", () => {
  it("writes 16 kHz mono 16-bit that wavefile and sox read back sample for sample", async () => {
    const pcm = Int16Array.from({ length: 1601 }, (_, i) => Math.round(20_000 * Math.sin(i / 7)) - (i % 3));
    await writeWav(path("out.wav"), pcm);
    const wf = new wavefile.WaveFile(readFileSync(path("out.wav")));
    expect(wf.fmt).toMatchObject({ audioFormat: 1, numChannels: 1, sampleRate: 16_000, bitsPerSample: 16 });
    expect(Array.from(wf.getSamples(false, Int16Array) as unknown as Int16Array)).toEqual(Array.from(pcm));
    expect(sox("--i", "-s", path("out.wav")).toString().trim()).toBe("1601");
    expect(Array.from(await readWav(path("out.wav")))).toEqual(Array.from(pcm));
  });

  it("encodes other rates for callers that need them (and a subarray view correctly)", () => {
    const big = Int16Array.from([9, 1, 2, 3, 9]);
    const bytes = encodeWav(big.subarray(1, 4), 8000);
    const { format, data } = parseWav(bytes, "x");
    expect(format).toMatchObject({ sampleRate: 8000, channels: 1, frames: 3 });
    expect(Array.from(new Int16Array(new Uint8Array(data).buffer))).toEqual([1, 2, 3]);
  });

  it("reports an unwritable path as an AudioError", async () => {
    const e = await audioError(writeWav(join(dir, "no", "such", "dir.wav"), new Int16Array(1)));
    expect(e.message).toMatch(/cannot write WAV: no such file/);
  });
});
