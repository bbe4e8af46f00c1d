/**
 * Against the real Azure Speech service: runs only when AZURE_SPEECH_KEY and AZURE_SPEECH_REGION
 * are set (skipped otherwise, and in CI without them). Recognizes an espeak-ng rendering of a
 * command and synthesizes a sentence.
 */
import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadGrammar } from "../nlu/load-intents.js";
import { createAzureSynthesizer } from "../voice/azure-tts.js";
import { createAzureRecognizer } from "./azure.js";

const run = promisify(execFile);
const live = !!process.env.AZURE_SPEECH_KEY && !!process.env.AZURE_SPEECH_REGION;

describe.skipIf(!live)("Azure Speech, live service (AZURE_SPEECH_KEY / AZURE_SPEECH_REGION)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("recognizes an espeak-ng rendering of 'add two packs of coffee'", { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "talkcart-azure-live-"));
    dirs.push(dir);
    const wav = join(dir, "f.wav");
    const raw = join(dir, "f.raw");
    await run("espeak-ng", ["-w", wav, "add two packs of coffee"], { timeout: 10_000 });
    await run("sox", [wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", raw], { timeout: 10_000 });
    const bytes = await readFile(raw);
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);

    const domain = { locale: "en", grammar: loadGrammar(join(import.meta.dirname, "../../intents"), "en"), catalogPhrases: ["coffee"] };
    const rec = createAzureRecognizer(domain, { resultTimeoutMs: 15_000 });
    try {
      const u = rec.begin();
      u.write(pcm);
      u.write(new Int16Array(8000)); // half a second of trailing silence
      const t0 = performance.now();
      const hyps = await u.end();
      console.log(`azure live: ${(performance.now() - t0).toFixed(0)} ms from end of audio`, hyps);
      expect(hyps.length).toBeGreaterThan(0);
      expect(hyps[0].confidence).toBeGreaterThan(0);
      expect(hyps.some((h) => /\b(two|2)\b.*\bpacks?\b.*\bcoffee\b/i.test(h.text))).toBe(true);
    } finally {
      await rec.close();
    }
  });

  it("synthesizes a sentence as 16 kHz PCM", { timeout: 30_000 }, async () => {
    const tts = createAzureSynthesizer();
    try {
      const pcm = await tts.synthesize("Two packs of coffee are in your cart.", "en");
      // At 16 kHz, a sentence like this is well over half a second and has real signal in it.
      expect(pcm.length).toBeGreaterThan(8000);
      expect(pcm.some((s) => Math.abs(s) > 1000)).toBe(true);
    } finally {
      await tts.close();
    }
  });
});
