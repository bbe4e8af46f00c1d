import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pocketsphinxTestSkip, renderSpeech } from "./recognizer-contract.js";
import { readWav } from "../audio/wav.js";
import { readManifest } from "../fixtures/fixtures.js";
import { RecognizerUnavailable } from "./types.js";
import { createWakeWordSpotter, type WakeWordSpotter } from "./wake-word.js";

const RECORDINGS = join(import.meta.dirname, "../../audio-fixtures/recorded/ha-commands-en");
const FIXTURES = join(import.meta.dirname, "../../audio-fixtures");

const skip = pocketsphinxTestSkip();

/** Room-quiet background between utterances (deterministic low noise). */
function quiet(seconds: number): Int16Array {
  const out = new Int16Array(seconds * 16_000);
  let s = 7;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((s >>> 16) % 61) - 30;
  }
  return out;
}

function feed(spotter: WakeWordSpotter, pcm: Int16Array, chunk = 1024) {
  const found = [];
  for (let i = 0; i < pcm.length; i += chunk) found.push(...spotter.write(pcm.subarray(i, i + chunk)));
  return found;
}

describe.skipIf(!!skip)(`wake word (pocketsphinx keyword spotting)${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let spotter: WakeWordSpotter;
  beforeAll(() => {
    spotter = createWakeWordSpotter();
  });
  afterAll(async () => {
    await spotter?.close();
  });

  it("finds \"computer\" said inside a sentence, once, near where it was said", () => {
    expect(spotter.word).toBe("computer");
    const lead = quiet(1);
    const found = [...feed(spotter, lead), ...feed(spotter, renderSpeech("okay computer, add two packs of coffee to my cart")), ...feed(spotter, quiet(1))];
    expect(found).toHaveLength(1);
    expect(found[0].word).toBe("computer");
    // "okay computer" takes about a second of the sentence.
    expect(found[0].time).toBeGreaterThan(1.3);
    expect(found[0].time).toBeLessThan(2.6);
  });

  it("finds it again later in the same stream, and not in a sentence without it", () => {
    expect(feed(spotter, renderSpeech("what is the weather like today"))).toHaveLength(0);
    expect(feed(spotter, quiet(1))).toHaveLength(0);
    expect(feed(spotter, renderSpeech("computer, what's in my cart"))).toHaveLength(1);
  });

  it.skipIf(!existsSync(RECORDINGS))("stays silent on the 35 real recordings (none says computer)", async () => {
    const files = readdirSync(RECORDINGS).filter((f) => f.endsWith(".wav")).sort();
    expect(files.length).toBeGreaterThanOrEqual(35);
    const s = createWakeWordSpotter();
    let audio = 0;
    const started = performance.now();
    const alarms: string[] = [];
    try {
      for (const f of files) {
        const pcm = await readWav(join(RECORDINGS, f));
        audio += pcm.length / 16_000 + 0.5;
        if ([...feed(s, pcm), ...feed(s, quiet(0.5))].length > 0) alarms.push(f);
      }
    } finally {
      await s.close();
    }
    console.log(`wake word: ${alarms.length} false alarms in ${audio.toFixed(0)} s of real speech, RTF ${((performance.now() - started) / 1000 / audio).toFixed(3)}`);
    expect(alarms).toEqual([]);
  }, 60_000);
});

describe.skipIf(!!skip)(`wake word false alarms on audio held out from its tuning${skip ? ` (skipped: ${skip})` : ""}`, () => {
  // MIN_PHONE_SECONDS was chosen on the 35 real recordings above; these files played no part in it.
  // English only: the spotter uses the English acoustic model, and in German speech it fires far
  // more often (9 times in 5.2 minutes of the German fixtures, mostly on "Kaffee"; see the README).
  // Synthetic speech at 10-20 dB draws more false alarms than the real recordings above: about one
  // in 9 minutes here (one in 2 minutes over every English fixture voice and noise level, measured
  // with .exp/wake-ho.mts), so this bounds the rate rather than asking for none.
  it("false alarms stay rare on the committed English fixtures: at most one per 4 minutes of other requests", async () => {
    const manifest = readManifest(FIXTURES);
    const files = manifest.files.filter((f) => f.committed && f.locale === "en");
    expect(files.length).toBeGreaterThan(150);
    expect(files.some((f) => /computer/i.test(f.text))).toBe(false);
    const s = createWakeWordSpotter();
    let audio = 0;
    const alarms: string[] = [];
    try {
      for (const f of files) {
        const pcm = await readWav(join(FIXTURES, f.path));
        audio += pcm.length / 16_000 + 0.5;
        if ([...feed(s, pcm), ...feed(s, quiet(0.5))].length > 0) alarms.push(`${f.path}: ${f.text}`);
      }
    } finally {
      await s.close();
    }
    console.log(`wake word: ${alarms.length} false alarms in ${(audio / 60).toFixed(1)} min of held-out fixtures: ${alarms.join("; ")}`);
    expect(audio / 60).toBeGreaterThan(8);
    expect(alarms.length).toBeLessThanOrEqual(Math.floor(audio / 60 / 4));
  }, 120_000);
});

describe("wake word configuration", () => {
  it("refuses a multi-word phrase", () => {
    expect(() => createWakeWordSpotter({ word: "hey talkcart" })).toThrow(RecognizerUnavailable);
    expect(() => createWakeWordSpotter({ word: "hey talkcart" })).toThrow(/one distinct word/);
  });

  it.skipIf(!!skip)("takes another word, even one the dictionary lacks", async () => {
    const s = createWakeWordSpotter({ word: "Jarvis" });
    expect(s.word).toBe("jarvis");
    await s.close();
    await s.close();
    expect(() => s.write(new Int16Array(160))).toThrow(/closed/);
  });
});
