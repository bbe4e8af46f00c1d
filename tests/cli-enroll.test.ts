/**
 * `talkcart enroll` as a person uses it, run as a child process against the real tools: the
 * sentences written to the data folder, recordings checked against them, the model adapted with
 * SphinxTrain and then used by the other voice commands. The recordings are espeak-ng's.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { probeMicrophone } from "../src/audio/microphone.js";
import { writeWav } from "../src/audio/wav.js";
import { spokenReadings } from "../src/fixtures/spoken-readings.js";
import { enrollmentSentences } from "../src/speech/enrollment.js";
import { adaptationTestSkip } from "../src/speech/speaker-adaptation-testing.js";
import { talkcart as runTalkcart } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");
const ADD_COFFEE = join(root, "audio-fixtures/en/en-us-s150/clean/add-two-packs-of-coffee-to-my-cart-27d4ae.wav");
const skip = adaptationTestSkip();
const mic = await probeMicrophone({ timeoutMs: 1500 });
const why = skip || (mic.ok ? `a capture device works here (${mic.description}), so enroll would record` : false);
const noStack = /\n\s+at |node:internal|Node\.js v\d/;

const data = mkdtempSync(join(tmpdir(), "talkcart-enroll-"));
afterAll(() => rmSync(data, { recursive: true, force: true }));
const talkcart = (args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: "" };
  for (const k of Object.keys(env)) if (/^TALKCART_(STT|POCKETSPHINX|SPHINXTRAIN|LOCALE|DATA|INTENTS)/.test(k)) delete env[k];
  return runTalkcart(args, { data, env });
};
const folder = join(data, "enrollment-en");
const model = join(data, "acoustic-model-en");

describe.skipIf(!!why)(`talkcart enroll${why ? ` (skipped: ${why})` : ""}`, () => {
  it("without a microphone writes the sentences to read and says how to go on", async () => {
    const few = await talkcart(["enroll", "--sentences", "5"]);
    expect(few.code).toBe(1);
    expect(few.stderr).toBe("talkcart: --sentences: at least 10\n");

    const r = await talkcart(["enroll", "--sentences", "12"]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(noStack);
    expect(r.stderr).toMatch(new RegExp(`^talkcart: cannot capture audio: .*The sentences are in ${folder}: record each NNN.txt as NNN.wav there .*then run talkcart enroll again\\n$`));
    expect(enrollmentSentences(folder).map((s) => s.name)).toEqual(["001", "002", "003", "004", "005", "006", "007", "008", "009", "010", "011", "012"]);
    expect(existsSync(model)).toBe(false);
  }, 60_000);

  it("names a recording that does not sound like its sentence, then adapts the model the other commands use", async () => {
    const sentences = enrollmentSentences(folder);
    const readings = await spokenReadings(sentences.map((s) => s.text), { voice: "en-gb+m3", speed: 140 });
    for (const [i, s] of sentences.entries()) await writeWav(s.wav, readings[i === 2 ? 1 : i].pcm); // 003.wav is 002's sentence
    const misread = await talkcart(["enroll"]);
    expect(misread.code).toBe(1);
    expect(misread.stderr).toBe(`talkcart: 003.wav sounds like "${sentences[1].text}", not "${sentences[2].text}": record it again (or delete the .wav to leave it out)\n`);
    expect(existsSync(model)).toBe(false);

    await writeWav(sentences[2].wav, readings[2].pcm);
    const r = await talkcart(["enroll", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ model, readings: 12 });
    expect(readdirSync(model)).toContain("sendump");

    const heard = JSON.parse((await talkcart(["transcribe", ADD_COFFEE, "--json"])).stdout);
    expect(heard.adaptedModel).toBe(model);
    expect(heard.utterances[0].intent).toBe("AddToCart");
    const checks = JSON.parse((await talkcart(["doctor", "--json"])).stdout) as { name: string; ok: boolean; detail: string }[];
    expect(checks.find((c) => c.name === "voice adaptation")).toMatchObject({ ok: true, detail: `adapted to your voice: ${model} (12 sentences, ${new Date().toISOString().slice(0, 10)})` });

    const removed = await talkcart(["enroll", "--remove"]);
    expect(removed.stdout).toBe(`removed ${model}: the speaker-independent model is used again\n`);
    expect(JSON.parse((await talkcart(["transcribe", ADD_COFFEE, "--json"])).stdout).adaptedModel).toBeNull();
  }, 120_000);
});
