/**
 * `talkcart enroll` as a person uses it, run as a child process against the real tools: the
 * sentences written to the data folder, recordings checked against them, the model adapted with
 * SphinxTrain and then used by the other voice commands. The recordings are espeak-ng's; a capture
 * device that does not exist stands for a machine without a microphone.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { concat, silence } from "../src/audio/testing.js";
import { writeWav } from "../src/audio/wav.js";
import { spokenReadings } from "../src/fixtures/spoken-readings.js";
import { enrollmentSentences } from "../src/speech/enrollment.js";
import { adaptationTestSkip } from "../src/speech/speaker-adaptation-testing.js";
import { talkcart as runTalkcart } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");
const ADD_COFFEE = join(root, "audio-fixtures/en/en-us-s150/clean/add-two-packs-of-coffee-to-my-cart-27d4ae.wav");
const skip = adaptationTestSkip();
const NO_MIC = ["--device", "hw:99,99"];
const noStack = /\n\s+at |node:internal|Node\.js v\d/;

const work = mkdtempSync(join(tmpdir(), "talkcart-enroll-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const data = join(work, "data");
const talkcart = (args: string[], dataDir = data, extraEnv: NodeJS.ProcessEnv = {}) => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: "" };
  for (const k of Object.keys(env)) if (/^TALKCART_(STT|POCKETSPHINX|SPHINXTRAIN|LOCALE|DATA|INTENTS)/.test(k)) delete env[k];
  return runTalkcart(args, { data: dataDir, env: { ...env, ...extraEnv } });
};

/**
 * A microphone that "hears" `pcm` and then stops: a fake `sox` first on PATH that writes it as raw
 * 16 kHz s16le to stdout, as `sox -d` would (the probe before recording reads its first 100 ms).
 */
function microphoneHearing(pcm: Int16Array): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(work, "mic-"));
  const raw = join(dir, "heard.raw");
  writeFileSync(raw, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  writeFileSync(join(dir, "sox"), `#!/bin/sh\ncat "${raw}"\n`);
  chmodSync(join(dir, "sox"), 0o755);
  return { PATH: `${dir}:${process.env.PATH}` };
}
const pause = () => silence(1500);
const folder = join(data, "enrollment-en");
const model = join(data, "acoustic-model-en");
const oneLine = (r: { code: number; stdout: string; stderr: string }, message: RegExp | string) => {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).not.toMatch(noStack);
  if (typeof message === "string") expect(r.stderr).toBe(`talkcart: ${message}\n`);
  else expect(r.stderr).toMatch(message);
};

describe.skipIf(!!skip)(`talkcart enroll${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("without a microphone writes the sentences to read and says how to go on", async () => {
    oneLine(await talkcart(["enroll", "--sentences", "5"]), "--sentences: at least 10");
    oneLine(await talkcart(["enroll", "--sentences", "12", ...NO_MIC]), new RegExp(`^talkcart: cannot capture audio: .*The sentences are in ${folder}: record each NNN.txt as NNN.wav there .*then run talkcart enroll again\\n$`));
    const names = enrollmentSentences(folder, "en").map((s) => s.name);
    expect(names).toEqual(["001", "002", "003", "004", "005", "006", "007", "008", "009", "010", "011", "012"]);
    expect(existsSync(model)).toBe(false);
    // The same sentences on the next run (it goes on where it stopped); other counts need a restart.
    const texts = enrollmentSentences(folder, "en").map((s) => s.text);
    await talkcart(["enroll", ...NO_MIC]);
    expect(enrollmentSentences(folder, "en").map((s) => s.text)).toEqual(texts);
    oneLine(await talkcart(["enroll", "--sentences", "20", ...NO_MIC]), `${folder} already has 12 sentences (0 recorded): leave out --sentences to go on with them, or run talkcart enroll --restart --sentences 20 to start over`);
  }, 60_000);

  it("names a recording that does not sound like its sentence, then adapts the model the other commands use", async () => {
    const sentences = enrollmentSentences(folder, "en");
    const readings = await spokenReadings(sentences.map((s) => s.text), { voice: "en-gb+m3", speed: 140 });
    for (const [i, s] of sentences.entries()) await writeWav(s.wav, readings[i === 2 ? 1 : i].pcm); // 003.wav is 002's sentence
    oneLine(await talkcart(["enroll"]), `003.wav sounds like "${sentences[1].text}", not "${sentences[2].text}": record it again (or delete the .wav to leave it out)`);
    expect(existsSync(model)).toBe(false);

    await writeWav(sentences[2].wav, readings[2].pcm);
    const r = await talkcart(["enroll", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ model, readings: 12 });
    expect(readdirSync(model)).toContain("sendump");
    expect(readdirSync(data).filter((f) => f.startsWith(".enroll-"))).toEqual([]); // no scratch left

    const heard = JSON.parse((await talkcart(["transcribe", ADD_COFFEE, "--json"])).stdout);
    expect(heard.adaptedModel).toBe(model);
    expect(heard.utterances[0].intent).toBe("AddToCart");
    const checks = JSON.parse((await talkcart(["doctor", "--json"])).stdout) as { name: string; ok: boolean; detail: string }[];
    expect(checks.find((c) => c.name === "voice adaptation")).toMatchObject({ ok: true, detail: `adapted to your voice: ${model} (12 sentences, ${info.adaptedAt.slice(0, 10)})` });

    const removed = await talkcart(["enroll", "--remove"]);
    expect(removed.stdout).toBe(`removed ${model}: the speaker-independent model is used again\n`);
    expect(JSON.parse((await talkcart(["transcribe", ADD_COFFEE, "--json"])).stdout).adaptedModel).toBeNull();
  }, 120_000);

  it("--from a folder made elsewhere: every recording needs its sentence, every word a pronunciation", async () => {
    const elsewhere = join(work, "elsewhere");
    mkdirSync(elsewhere);
    for (const s of enrollmentSentences(folder, "en")) {
      copyFileSync(s.wav, join(elsewhere, `${s.name}.wav`));
      writeFileSync(join(elsewhere, `${s.name}.txt`), readFileSync(join(folder, `${s.name}.txt`)));
    }
    const other = join(work, "other-data");
    copyFileSync(join(elsewhere, "001.wav"), join(elsewhere, "extra.wav"));
    oneLine(await talkcart(["enroll", "--from", elsewhere], other), `${elsewhere}: extra.wav has no sentence beside it (NNN.txt with what was read)`);
    rmSync(join(elsewhere, "extra.wav"));
    writeFileSync(join(elsewhere, "004.txt"), "add seventeen flurbles to my cart\n");
    oneLine(await talkcart(["enroll", "--from", elsewhere], other), `004.txt: no pronunciation for "flurbles": the grammar does not know that word; edit the sentence`);
    writeFileSync(join(elsewhere, "004.txt"), readFileSync(join(folder, "004.txt")));
    oneLine(await talkcart(["enroll", "--from", join(elsewhere, "001.wav")], other), `--from ${join(elsewhere, "001.wav")}: not a folder`);
    writeFileSync(join(elsewhere, "005.txt"), " ... \n");
    oneLine(await talkcart(["enroll", "--from", elsewhere], other), "005.txt: no words to read; write the sentence in it or delete it");
    writeFileSync(join(elsewhere, "005.txt"), readFileSync(join(folder, "005.txt")));
    renameSync(join(elsewhere, "006.wav"), join(elsewhere, "006.WAV")); // recorded elsewhere, named in capitals
    oneLine(await talkcart(["enroll", "--from", elsewhere, "--restart"], other), "--restart starts over in the data folder; it does not go with --from");

    const r = await talkcart(["enroll", "--from", elsewhere, "--json"], other);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ model: join(other, "acoustic-model-en"), readings: 12 });
  }, 120_000);

  it("records live from the microphone: a misread is asked again, stopping keeps what was kept, the next run goes on", async () => {
    const live = join(work, "live-data");
    const liveFolder = join(live, "enrollment-en");
    await talkcart(["enroll", "--sentences", "10", ...NO_MIC], live); // writes the sentences
    const sentences = enrollmentSentences(liveFolder, "en");
    const spoken = await spokenReadings(sentences.map((s) => s.text), { voice: "en-us", speed: 150 });
    // The first three read, then the fifth where the fourth is asked for; then the microphone stops.
    const first = await talkcart(["enroll"], live, microphoneHearing(concat(pause(), ...[0, 1, 2, 4].flatMap((i) => [spoken[i].pcm, pause()]))));
    expect(first.code).toBe(1);
    expect(first.stderr).toBe(`talkcart: the microphone stopped sending audio: 7 sentences still to read in ${liveFolder}; run talkcart enroll again to go on\n`);
    expect(first.stdout).toContain(`1/10  Read aloud:  ${sentences[0].text}\n  kept (`);
    expect(first.stdout).toContain(`4/10  Read aloud:  ${sentences[3].text}\n  that sounded like "${sentences[4].text}": read it once more`);
    expect(enrollmentSentences(liveFolder, "en").map((s) => s.recorded)).toEqual([true, true, true, false, false, false, false, false, false, false]);

    const rest = await talkcart(["enroll", "--json"], live, microphoneHearing(concat(pause(), ...spoken.slice(3).flatMap((r) => [r.pcm, pause()]))));
    expect(rest.code, rest.stderr).toBe(0);
    // --json: the result alone on stdout, the sentences to read on stderr.
    expect(JSON.parse(rest.stdout)).toMatchObject({ model: join(live, "acoustic-model-en"), readings: 10 });
    expect(rest.stderr).not.toContain("1/10");
    expect(rest.stderr).toContain(`4/10  Read aloud:  ${sentences[3].text}\n  kept (`);
  }, 120_000);

  it("--restart forgets the recordings and draws other sentences", async () => {
    const before = enrollmentSentences(folder, "en").map((s) => s.text);
    oneLine(await talkcart(["enroll", "--restart", "--sentences", "10", ...NO_MIC]), /^talkcart: cannot capture audio: /);
    const after = enrollmentSentences(folder, "en");
    expect(after).toHaveLength(10);
    expect(after.every((s) => !s.recorded)).toBe(true);
    expect(after.map((s) => s.text)).not.toEqual(before.slice(0, 10));
  }, 60_000);
});
