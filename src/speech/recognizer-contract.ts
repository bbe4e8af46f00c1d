import { execFileSync } from "node:child_process";
import { DEFAULT_HMM } from "./jsgf.js";
import { loadPocketsphinx } from "./pocketsphinx-native.js";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hypothesis, RecognitionContext, Recognizer } from "./types.js";

/**
 * The contract every Recognizer engine keeps, as a vitest suite any engine's test can run:
 *
 *   recognizerContract("pocketsphinx", () => createPocketsphinxRecognizer({ domain }));
 *
 * The assertions are generic (no engine-specific transcripts): one utterance of speech gives a
 * list of hypotheses sorted by confidence, partial() is always a string, silence gives nothing or
 * something unsure, and one recognizer handles utterances one after another.
 */

export interface ContractOptions {
  /** Speech of one command, 16 kHz mono s16 (default: "add two packs of coffee to my cart" by espeak-ng). */
  speech?: () => Int16Array | Promise<Int16Array>;
  /** Skip the suite, saying why (an engine or model that is not installed). */
  skip?: string | false;
  /** Per-test timeout (ms, default 60 000). */
  timeout?: number;
}

/** Whether espeak-ng and sox are installed (what `renderSpeech` needs). */
export function canRenderSpeech(): boolean {
  try {
    execFileSync("espeak-ng", ["--version"], { stdio: "ignore" });
    execFileSync("sox", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const cacheDir = join(tmpdir(), `talkcart-speech-${process.getuid?.() ?? 0}`);

/** Text spoken by espeak-ng, resampled by sox to 16 kHz mono s16le (cached per text, voice and speed). */
export function renderSpeech(text: string, voice = "en-us", speed = 150): Int16Array {
  mkdirSync(cacheDir, { recursive: true });
  const key = Buffer.from(`${voice}|${speed}|${text}`).toString("base64url").slice(0, 120);
  const raw = join(cacheDir, `${key}.raw`);
  if (!existsSync(raw)) {
    const wav = join(cacheDir, `${key}-${process.pid}.wav`);
    execFileSync("espeak-ng", ["-v", voice, "-s", String(speed), "-w", wav, text]);
    const tmp = join(cacheDir, `${key}-${process.pid}.raw`);
    execFileSync("sox", [wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", tmp]);
    renameSync(tmp, raw); // atomic: test files running in parallel never read half a file
    rmSync(wav, { force: true });
  }
  const buf = readFileSync(raw);
  return new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

/** Feeds PCM in chunks like a live source (100 ms by default) and ends the utterance. */
export async function recognize(recognizer: Recognizer, pcm: Int16Array, chunk = 1600, onPartial?: (text: string) => void, context?: RecognitionContext): Promise<Hypothesis[]> {
  const utt = recognizer.begin(context);
  for (let i = 0; i < pcm.length; i += chunk) {
    utt.write(pcm.subarray(i, i + chunk));
    onPartial?.(utt.partial());
  }
  return utt.end();
}

function expectWellFormed(hyps: Hypothesis[], seconds: number) {
  expect(Array.isArray(hyps)).toBe(true);
  for (const h of hyps) {
    expect(typeof h.text).toBe("string");
    expect(h.text.trim().length).toBeGreaterThan(0);
    expect(h.confidence).toBeGreaterThanOrEqual(0);
    expect(h.confidence).toBeLessThanOrEqual(1);
    for (const w of h.words ?? []) {
      expect(w.start).toBeGreaterThanOrEqual(0);
      expect(w.end).toBeGreaterThanOrEqual(w.start);
      expect(w.end).toBeLessThanOrEqual(seconds + 0.05);
    }
    const starts = (h.words ?? []).map((w) => w.start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  }
  const confidences = hyps.map((h) => h.confidence);
  expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
}

export function recognizerContract(name: string, makeRecognizer: () => Recognizer | Promise<Recognizer>, options: ContractOptions = {}): void {
  const skip = options.skip ?? (options.speech ? false : canRenderSpeech() ? false : "espeak-ng or sox not installed");
  const timeout = options.timeout ?? 60_000;
  describe.skipIf(!!skip)(`Recognizer contract: ${name}${skip ? ` (skipped: ${skip})` : ""}`, () => {
    let recognizer: Recognizer;
    let speech: Int16Array;
    const silence = new Int16Array(16_000);

    beforeAll(async () => {
      recognizer = await makeRecognizer();
      speech = options.speech ? await options.speech() : renderSpeech("add two packs of coffee to my cart");
    }, timeout);
    afterAll(async () => {
      await recognizer?.close();
    });

    it("has a name and a locale", () => {
      expect(typeof recognizer.name).toBe("string");
      expect(recognizer.name.length).toBeGreaterThan(0);
      expect(typeof recognizer.locale).toBe("string");
    });

    it("begin/write/end gives hypotheses sorted by confidence, and partial() is always a string", async () => {
      const partials: string[] = [];
      const utt = recognizer.begin();
      expect(utt.partial()).toBe("");
      for (let i = 0; i < speech.length; i += 1600) {
        utt.write(speech.subarray(i, i + 1600));
        partials.push(utt.partial());
      }
      const hyps = await utt.end();
      for (const p of partials) expect(typeof p).toBe("string");
      expect(hyps.length).toBeGreaterThan(0);
      expectWellFormed(hyps, speech.length / 16_000);
      expect(new Set(hyps.map((h) => h.text)).size).toBe(hyps.length);
    }, timeout);

    it("end() on silence gives no hypothesis or an unsure one", async () => {
      const hyps = await recognize(recognizer, silence);
      expectWellFormed(hyps, 1);
      if (hyps.length > 0) expect(hyps[0].confidence).toBeLessThan(0.5);
    }, timeout);

    it("an utterance with no audio at all ends cleanly", async () => {
      const hyps = await recognizer.begin().end();
      expectWellFormed(hyps, 0);
    }, timeout);

    it("handles two utterances in a row on one recognizer, with the same reading", async () => {
      const first = await recognize(recognizer, speech);
      const second = await recognize(recognizer, speech);
      expect(first.length).toBeGreaterThan(0);
      expect(second.length).toBeGreaterThan(0);
      expectWellFormed(second, speech.length / 16_000);
      expect(second[0].text).toBe(first[0].text);
    }, timeout);
  });
}

/** Ten commands across the intents, for tests that speak them (en). */
export const COMMANDS = [
  "add two packs of coffee to my cart",
  "remove the bananas from my cart",
  "what's in my cart",
  "do you have lego",
  "how much is the monopoly",
  "i want to check out",
  "clear my cart",
  "where is my order",
  "the second one",
  "put four bananas in my cart",
];

/**
 * Why the pocketsphinx tests cannot run here (false: they can). With TALKCART_REQUIRE_VOICE=1 (set by
 * .ci/run, which installs the packages) a missing engine fails the run instead of skipping quietly.
 */
export function pocketsphinxTestSkip(): string | false {
  let reason: string | false = false;
  try {
    loadPocketsphinx();
    if (!existsSync(DEFAULT_HMM)) reason = "pocketsphinx-en-us model not installed";
    else if (!canRenderSpeech()) reason = "espeak-ng or sox not installed";
  } catch (e) {
    reason = (e as Error).message;
  }
  if (reason && process.env.TALKCART_REQUIRE_VOICE === "1") throw new Error(`TALKCART_REQUIRE_VOICE=1 but ${reason}`);
  return reason;
}
