import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Listener } from "../audio/endpointer.js";
import { tokenize } from "../nlu/text.js";
import { readWav, writeWav } from "../audio/wav.js";
import type { ReadingCheck } from "./reading-check.js";
import type { Reading } from "./speaker-adaptation.js";

/**
 * An enrollment folder: `NNN.txt` holds a sentence to read, `NNN.wav` its recording. `talkcart
 * enroll` writes the sentences and records them; a person without a microphone on this machine
 * can record the same names elsewhere. A sentence without a recording is still to be read.
 */
export function enrollmentDir(dataDir: string, locale: string): string {
  return join(dataDir, `enrollment-${locale}`);
}

const id = (n: number) => String(n).padStart(3, "0");

/** Writes the sentences as 001.txt, 002.txt, ... unless the folder already has sentences. */
export function writePrompts(dir: string, prompts: string[]): void {
  mkdirSync(dir, { recursive: true });
  if (sentenceFiles(dir).length > 0) return;
  prompts.forEach((text, i) => writeFileSync(join(dir, `${id(i + 1)}.txt`), text + "\n"));
}

function sentenceFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => /\.txt$/i.test(f)).sort() : [];
}

export interface EnrollmentSentence {
  name: string;
  text: string;
  wav: string;
  recorded: boolean;
}

/**
 * Every sentence of the folder, in order, and whether it has its recording yet. The text is taken
 * as words (punctuation and case dropped), so a sentence typed by hand reads like a generated one.
 */
export function enrollmentSentences(dir: string, locale: string): EnrollmentSentence[] {
  // A recording made elsewhere may be 001.WAV: found whatever its case.
  const wavs = new Map(existsSync(dir) ? readdirSync(dir).filter((f) => /\.wav$/i.test(f)).map((f) => [f.toLowerCase(), f]) : []);
  return sentenceFiles(dir).map((f) => {
    const name = f.replace(/\.txt$/i, "");
    const found = wavs.get(`${name}.wav`.toLowerCase());
    const text = tokenize(readFileSync(join(dir, f), "utf8"), locale).join(" ");
    return { name, text, wav: join(dir, found ?? `${name}.wav`), recorded: found !== undefined };
  });
}

/** Recordings with no sentence beside them (NNN.wav without NNN.txt): they cannot be used. */
export function unmatchedRecordings(dir: string): string[] {
  const sentences = new Set(sentenceFiles(dir).map((f) => f.replace(/\.txt$/i, "").toLowerCase()));
  return readdirSync(dir).filter((f) => /\.wav$/i.test(f) && !sentences.has(f.replace(/\.wav$/i, "").toLowerCase()));
}

/** The recorded sentences as readings (a WAV that cannot be read is an error naming it). */
export async function readingsIn(dir: string, locale: string): Promise<Reading[]> {
  const recorded = enrollmentSentences(dir, locale).filter((s) => s.recorded);
  return Promise.all(recorded.map(async (s) => ({ name: `${s.name}.wav`, text: s.text, pcm: await readWav(s.wav) })));
}

/** What happened at one sentence, for the person reading. */
export type RecordingEvent =
  | { type: "prompt"; sentence: EnrollmentSentence; position: number; total: number; attempt: number }
  | { type: "saved"; sentence: EnrollmentSentence; seconds: number }
  | { type: "retry"; sentence: EnrollmentSentence; why: "no-input" | "too-long" | "misread"; heard?: string | null }
  | { type: "skipped"; sentence: EnrollmentSentence };

export interface RecordOptions {
  locale: string;
  listener: Listener;
  check: ReadingCheck;
  onEvent: (event: RecordingEvent) => void;
  /** Tries per sentence before it is left for later (default 3). */
  tries?: number;
  /** How long to wait for the person to start reading (default 10 s). */
  noInputMs?: number;
  signal?: AbortSignal;
}

/**
 * Records every sentence of the folder that has no recording yet. A recording is kept only when it
 * sounds like its sentence (ReadingCheck); each is saved as it is made, so stopping halfway loses
 * nothing and the next run goes on where this one stopped. Resolves to how many were saved, and
 * whether listening ended early (the audio ran out, or `signal` aborted) with sentences still to read.
 */
export async function recordSentences(dir: string, options: RecordOptions): Promise<{ saved: number; endedEarly: boolean }> {
  const sentences = enrollmentSentences(dir, options.locale);
  const todo = sentences.filter((s) => !s.recorded);
  let saved = 0;
  for (const sentence of todo) {
    const position = sentences.indexOf(sentence) + 1;
    for (let attempt = 1; ; attempt++) {
      if (attempt > (options.tries ?? 3)) {
        options.onEvent({ type: "skipped", sentence });
        break;
      }
      options.onEvent({ type: "prompt", sentence, position, total: sentences.length, attempt });
      const heard = await options.listener.next({ noInputMs: options.noInputMs ?? 10_000, signal: options.signal });
      if (heard.type === "end") return { saved, endedEarly: true };
      if (heard.type !== "utterance") {
        options.onEvent({ type: "retry", sentence, why: heard.type });
        continue;
      }
      const reading = await options.check.heard(heard.pcm);
      if (reading !== sentence.text) {
        options.onEvent({ type: "retry", sentence, why: "misread", heard: reading });
        continue;
      }
      // Written under another name first: an interrupted write never leaves a truncated NNN.wav.
      await writeWav(`${sentence.wav}.part`, heard.pcm);
      renameSync(`${sentence.wav}.part`, sentence.wav);
      saved++;
      options.onEvent({ type: "saved", sentence, seconds: heard.pcm.length / 16_000 });
      break;
    }
  }
  return { saved, endedEarly: false };
}
