/**
 * Voice figures for `npm run bench`: per engine and SNR, command acceptance (intent and every slot
 * right) and WER on the espeak-ng fixture set, real-time factor, end of speech -> transcript -> reply
 * latency (p50/p95) while replaying 100 turns through the dialogue, and peak RSS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { arraySource } from "../src/audio/sources.js";
import { readWav } from "../src/audio/wav.js";
import { ensureFixtures, readManifest, type FixtureEntry } from "../src/fixtures/fixtures.js";
import { chooseHypothesis } from "../src/nlu/choose-hypothesis.js";
import { loadGrammar } from "../src/nlu/load-intents.js";
import { IntentMatcher } from "../src/nlu/matcher.js";
import { tokenize } from "../src/nlu/text.js";
import { StreamingTurns } from "../src/pipeline/streaming-turns.js";
import { openSqlite } from "../src/shop/db.js";
import { SqlShop } from "../src/shop/sql-shop.js";
import type { Locale } from "../src/shop/types.js";
import { catalogPhrasesOf } from "../src/speech/jsgf.js";
import { createRecognizer, domainFor, ENGINES, type EngineName } from "../src/speech/engines.js";
import { RecognizerUnavailable, type Recognizer } from "../src/speech/types.js";
import { Session } from "../src/dialogue/session.js";

type Report = (name: string, value: string) => void;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/** Word error rate: edit distance over words, against the words the fixture speaks. */
export function wordErrors(reference: string[], hypothesis: string[]): number {
  const d = Array.from({ length: reference.length + 1 }, (_, i) => [i, ...Array(hypothesis.length).fill(0)]);
  for (let j = 1; j <= hypothesis.length; j++) d[0][j] = j;
  for (let i = 1; i <= reference.length; i++) {
    for (let j = 1; j <= hypothesis.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1));
    }
  }
  return d[reference.length][hypothesis.length];
}

function accepted(entry: FixtureEntry, parse: { intent: string; slots: Record<string, unknown> } | null): boolean {
  if (entry.intent === null) return parse === null;
  if (!parse || parse.intent !== entry.intent) return false;
  const expected = Object.entries(entry.slots).filter(([k]) => k !== "unit");
  const got = Object.entries(parse.slots).filter(([k]) => k !== "unit");
  return expected.length === got.length && expected.every(([k, v]) => String(parse.slots[k]) === String(v));
}

async function heard(recognizer: Recognizer, path: string) {
  const turns = new StreamingTurns(arraySource(await readWav(path)), recognizer);
  const t = await turns.next();
  await turns.close();
  return t.type === "utterance" || t.type === "too-long" ? t : null;
}

export async function benchVoice(report: Report, root: string) {
  const manifest = readManifest(join(root, "audio-fixtures"));
  const dir = mkdtempSync(join(tmpdir(), "talkcart-voice-bench-"));
  const shop = await SqlShop.open(await openSqlite(join(dir, "shop.sqlite")));
  try {
    for (const engine of ENGINES as readonly EngineName[]) {
      for (const locale of ["en", "de"] as Locale[]) {
        const grammar = loadGrammar(join(root, "intents"), locale);
        const matcher = new IntentMatcher(grammar, shop.index.scorer(locale));
        let recognizer: Recognizer;
        try {
          const phrases = catalogPhrasesOf({ categories: shop.categories(), products: await shop.allProducts() }, locale);
          recognizer = await createRecognizer(engine, domainFor(grammar, phrases));
        } catch (e) {
          if (!(e instanceof RecognizerUnavailable)) throw e;
          report(`${engine} ${locale}`, `skipped: ${e.message.split(":").slice(1).join(":").trim().slice(0, 120)}`);
          continue;
        }
        try {
          for (const snr of [null, 20, 10, 5]) {
            const entries = manifest.files.filter((f) => f.locale === locale && f.snr === snr);
            const paths = await ensureFixtures(entries, { fixturesDir: join(root, "audio-fixtures") });
            let ok = 0, errors = 0, words = 0, audioSeconds = 0, decodeSeconds = 0;
            for (const [i, entry] of entries.entries()) {
              const t = await heard(recognizer, paths[i]);
              const chosen = t ? chooseHypothesis(matcher, t.alternatives) : null;
              if (accepted(entry, chosen?.parse ?? null)) ok++;
              const ref = tokenize(entry.text, locale);
              errors += wordErrors(ref, tokenize(chosen?.reading.text ?? "", locale));
              words += ref.length;
              if (t) { audioSeconds += t.pcm.length / 16_000; decodeSeconds += t.recognizeMs / 1000; }
            }
            report(`${engine} ${locale} ${snr === null ? "clean" : `${snr} dB`}: acceptance / WER`,
              `${((ok / entries.length) * 100).toFixed(1)}% / ${((errors / words) * 100).toFixed(1)}%  (${entries.length} files, tail decode ${(decodeSeconds / audioSeconds).toFixed(3)} x real time)`);
          }
          // 100 turns through the dialogue: end of speech (the VAD's decision) -> transcript -> reply text.
          const clean = manifest.files.filter((f) => f.locale === locale && f.snr === null).slice(0, 100);
          const paths = await ensureFixtures(clean, { fixturesDir: join(root, "audio-fixtures") });
          const toTranscript: number[] = [];
          const toReply: number[] = [];
          let session = new Session({ matcher, shop, shopperId: "demo", locale });
          for (const path of paths) {
            const t = await heard(recognizer, path);
            if (!t) continue;
            const t0 = performance.now();
            await session.hear(t.alternatives);
            toTranscript.push(t.recognizeMs);
            toReply.push(t.recognizeMs + performance.now() - t0);
            if (session.ended) { session.stop(); session = new Session({ matcher, shop, shopperId: "demo", locale }); }
          }
          session.stop();
          report(`${engine} ${locale}: end of speech -> transcript p50/p95`, `${percentile(toTranscript, 50).toFixed(0)} / ${percentile(toTranscript, 95).toFixed(0)} ms`);
          report(`${engine} ${locale}: end of speech -> reply p50/p95`, `${percentile(toReply, 50).toFixed(0)} / ${percentile(toReply, 95).toFixed(0)} ms  (${toReply.length} turns; the VAD's 600 ms trailing silence comes before)`);
          report(`${engine} ${locale}: peak RSS so far`, `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
        } finally {
          await recognizer.close();
        }
      }
    }
  } finally {
    await shop.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
