import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Listener } from "../audio/endpointer.js";
import { arraySource } from "../audio/sources.js";
import { concat, silence } from "../audio/testing.js";
import { spokenReadings } from "../fixtures/spoken-readings.js";
import { loadGrammar } from "../nlu/load-intents.js";
import { catalogPhrasesOf } from "./catalog-phrases.js";
import { domainFor } from "./engines.js";
import { enrollmentSentences, readingsIn, recordSentences, unmatchedRecordings, writePrompts, type RecordingEvent } from "./enrollment.js";
import { grammarWithDictionary, modelFiles } from "./pocketsphinx.js";
import { ReadingCheck } from "./reading-check.js";
import { pocketsphinxTestSkip } from "./recognizer-contract.js";

const skip = pocketsphinxTestSkip();
const catalog = JSON.parse(readFileSync("src/shop/seed/catalog.json", "utf8"));
const work = mkdtempSync(join(tmpdir(), "talkcart-enrollment-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PROMPTS = ["add two packs of coffee to my cart", "how much is the monopoly", "where is my order"];

describe("an enrollment folder", () => {
  it("takes a hand-typed sentence as words, and names recordings without a sentence", async () => {
    const dir = join(work, "typed");
    writePrompts(dir, ["Add TWO packs of coffee, please!", "what's in my cart?"]);
    expect(enrollmentSentences(dir, "en").map((s) => s.text)).toEqual(["add two packs of coffee please", "what's in my cart"]);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "001.wav"), "");
    writeFileSync(join(dir, "stray.wav"), "");
    expect(unmatchedRecordings(dir)).toEqual(["stray.wav"]);
  });

  it("keeps the sentences it has: writing prompts again changes nothing", () => {
    const dir = join(work, "folder");
    writePrompts(dir, PROMPTS);
    writePrompts(dir, ["other sentences entirely"]);
    expect(enrollmentSentences(dir, "en").map((s) => [s.name, s.text, s.recorded])).toEqual([["001", PROMPTS[0], false], ["002", PROMPTS[1], false], ["003", PROMPTS[2], false]]);
  });
});

describe.skipIf(!!skip)(`recording the sentences${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let check: ReadingCheck;
  let spoken: Map<string, Int16Array>;
  const gap = () => silence(1500);

  beforeAll(async () => {
    const files = modelFiles("en");
    const { dictionary } = grammarWithDictionary(domainFor(loadGrammar("intents", "en"), catalogPhrasesOf(catalog, "en")), files.dict);
    check = new ReadingCheck({ hmm: files.hmm, dictionary, prompts: PROMPTS });
    spoken = new Map((await spokenReadings(PROMPTS, { voice: "en-us", speed: 150 })).map((r) => [r.text, r.pcm]));
  }, 60_000);
  afterAll(() => check?.close());

  it("keeps a recording only when it sounds like its sentence, and goes on later where it stopped", async () => {
    const dir = join(work, "live");
    writePrompts(dir, PROMPTS);
    const events: RecordingEvent[] = [];
    const onEvent = (e: RecordingEvent) => events.push(e);
    // The first sentence read; the third one read where the second was asked for, then the second; then the audio ends.
    const first = arraySource(concat(gap(), spoken.get(PROMPTS[0])!, gap(), spoken.get(PROMPTS[2])!, gap(), spoken.get(PROMPTS[1])!, gap()));
    expect(await recordSentences(dir, { locale: "en", listener: new Listener(first, { trailingSilenceMs: 1000 }), check, onEvent })).toEqual({ saved: 2, endedEarly: true });
    expect(events.map((e) => `${e.type} ${e.sentence.name}${e.type === "retry" ? ` ${e.why} "${e.heard}"` : ""}`)).toEqual([
      "prompt 001", "saved 001",
      "prompt 002", `retry 002 misread "${PROMPTS[2]}"`, "prompt 002", "saved 002",
      "prompt 003",
    ]);
    expect(enrollmentSentences(dir, "en").map((s) => s.recorded)).toEqual([true, true, false]);
    expect(existsSync(join(dir, "003.wav"))).toBe(false);

    events.length = 0;
    const second = arraySource(concat(gap(), spoken.get(PROMPTS[2])!, gap()));
    expect(await recordSentences(dir, { locale: "en", listener: new Listener(second, { trailingSilenceMs: 1000 }), check, onEvent })).toEqual({ saved: 1, endedEarly: false });
    expect(events.map((e) => `${e.type} ${e.sentence.name}`)).toEqual(["prompt 003", "saved 003"]);
    const readings = await readingsIn(dir, "en");
    expect(readings.map((r) => [r.name, r.text])).toEqual([["001.wav", PROMPTS[0]], ["002.wav", PROMPTS[1]], ["003.wav", PROMPTS[2]]]);
    expect(readings.every((r) => r.pcm.length > 16_000)).toBe(true);
  }, 60_000);

  it("gives a recording the same answer every time, whatever was checked before it", async () => {
    const [a, b, c] = PROMPTS.map((p) => spoken.get(p)!);
    const first = [await check.heard(a), await check.heard(b), await check.heard(c)];
    const again = [await check.heard(c), await check.heard(c), await check.heard(a), await check.heard(b)];
    expect(first).toEqual(PROMPTS);
    expect(again).toEqual([PROMPTS[2], PROMPTS[2], PROMPTS[0], PROMPTS[1]]);
  });

  it("asks again after silence and gives a sentence up after three tries", async () => {
    const dir = join(work, "quiet");
    writePrompts(dir, PROMPTS.slice(0, 1));
    const events: RecordingEvent[] = [];
    const source = arraySource(silence(12_000));
    expect(await recordSentences(dir, { locale: "en", listener: new Listener(source), check, onEvent: (e) => events.push(e), noInputMs: 3000 })).toEqual({ saved: 0, endedEarly: false });
    expect(events.map((e) => (e.type === "retry" ? `retry ${e.why}` : e.type))).toEqual(["prompt", "retry no-input", "prompt", "retry no-input", "prompt", "retry no-input", "skipped"]);
  });
});
