/**
 * Voice figures for `npm run bench` (run as its own process, so the peak RSS is the voice
 * pipeline's alone). Per engine that starts here:
 * - per SNR, on the espeak-ng fixtures decoded one by one with no dialogue context: command
 *   acceptance (intent and every slot right, of the reading the dialogue takes: src/dialogue/answers.ts
 *   heardIn, which drops a request that would take something away when the recognizer is unsure;
 *   values compared as said: "500 g" is "five hundred grams"), WER, real-time factor (CPU seconds per second of audio);
 *   at 10 and 5 dB also with the noise suppressor (--denoise);
 * - pocketsphinx only, last: the same clean and 10 dB fixtures after each voice has enrolled
 *   (`talkcart enroll`: it read 30 other sentences of the grammar, clean or in 10 dB noise, and the
 *   model was MAP-adapted to them), per voice beside the speaker-independent figures, and the
 *   conversations replayed with the adapted model of their voice;
 * - every English conversation test replayed from audio in context (en-us voice, clean and 10 dB):
 *   turns and whole conversations that reach the typed test's outcomes;
 * - 20 turns replayed at the pace of speech: latency from the end of speech (the VAD's decision)
 *   to the final transcript and to the reply text, p50/p95;
 * - peak RSS: of this benchmark process, and of the assistant alone replaying 100 turns (voice-rss.ts).
 * The fixture sample is a fixed half of the lines, chosen by a hash of the text, each in all four
 * voices: a line added to the conversation tests does not reshuffle it (every fourth file of the
 * manifest did, by ±6 points). A quarter (26 lines) left the acceptance figures a few points apart
 * from run to run of the sample's choice; half holds the quarter and costs ~3 minutes more. TALKCART_BENCH_VOICE=full decodes every fixture file; =live
 * measures only the latency at the pace of speech.
 */
import { inWords } from "../src/voice/speech-format.js";
import { join } from "node:path";
import { wavFileSource } from "../src/audio/sources.js";
import { filtered, replaySource } from "../src/cli/voice-commands.js";
import { conversationFiles, readConversation, turnMismatch } from "../src/fixtures/conversations.js";
import { ensureFixtures, readManifest, recordingOf, VARIANTS, type FixtureEntry, type RenderedFixture } from "../src/fixtures/fixtures.js";
import { heardIn } from "../src/dialogue/answers.js";
import { loadGrammar } from "../src/nlu/load-intents.js";
import { IntentMatcher } from "../src/nlu/matcher.js";
import { editDistance, tokenize } from "../src/nlu/text.js";
import { StreamingTurns } from "../src/pipeline/streaming-turns.js";
import { openSqlite } from "../src/shop/db.js";
import { SqlShop } from "../src/shop/sql-shop.js";
import { Session } from "../src/dialogue/session.js";
import { catalogPhrasesOf } from "../src/speech/catalog-phrases.js";
import { createRecognizer, domainFor, ENGINES, type EngineName } from "../src/speech/engines.js";
import { DEFAULT_PROMPTS, enrollmentPrompts } from "../src/speech/enrollment-prompts.js";
import { exampleRequests } from "../src/nlu/sentence-tests.js";
import { grammarWithDictionary, modelFiles } from "../src/speech/pocketsphinx.js";
import { ADAPTATION_HINT, adaptationTools, adaptModel } from "../src/speech/speaker-adaptation.js";
import { RecognizerUnavailable, type RecognitionDomain, type Recognizer } from "../src/speech/types.js";
import { spokenReadings } from "../src/fixtures/spoken-readings.js";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url)); // built to dist/bench/voice.js
const fixturesDir = join(root, "audio-fixtures");
const report = (name: string, value: string) => console.log(`${name.padEnd(46)} ${value}`);
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
/** The voice the conversations and the live-pace turns are spoken in. */
const CONVERSATION_VOICE = "en-us-s150";
/** Sentences each voice reads to enroll: `talkcart enroll`'s default. */
const ENROLL_SENTENCES = DEFAULT_PROMPTS;
const pct = (a: number, n: number) => `${((100 * a) / Math.max(1, n)).toFixed(1)}%`;

/** One line in `every`, by a hash of its text: the same lines in every voice and every run. */
function inSample(text: string, every: number): boolean {
  return createHash("sha1").update(text).digest().readUInt32BE(0) % every === 0;
}

function accepted(entry: FixtureEntry, parse: { intent: string; slots: Record<string, unknown> } | null): boolean {
  if (entry.intent === null) return parse === null;
  if (!parse || parse.intent !== entry.intent) return false;
  const expected = Object.entries(entry.slots).filter(([k]) => k !== "unit");
  const got = Object.entries(parse.slots).filter(([k]) => k !== "unit");
  return expected.length === got.length && expected.every(([k, v]) => inWords(String(parse.slots[k]), "en") === inWords(String(v), "en"));
}

/** The words a fixture's text is said as: "60" as "sixty". */
const said = (text: string) => tokenize(inWords(text, "en"), "en");
/** Per voice: fixtures accepted, of how many. */
type VoiceCounts = Map<string, { ok: number; files: number }>;

/** Acceptance, WER and RTF of the entries; resolves to how many were accepted per voice. */
async function fixtureFigures(recognizer: Recognizer, matcher: IntentMatcher, entries: RenderedFixture[], label: string, denoise = false): Promise<VoiceCounts> {
  const paths = await ensureFixtures(entries, { fixturesDir });
  let ok = 0, errors = 0, words = 0, audioSeconds = 0;
  const byVoice: VoiceCounts = new Map();
  const cpu0 = process.cpuUsage();
  for (const [i, entry] of entries.entries()) {
    const voice = byVoice.get(entry.variant) ?? byVoice.set(entry.variant, { ok: 0, files: 0 }).get(entry.variant)!;
    voice.files++;
    const turns = new StreamingTurns(filtered(wavFileSource(paths[i]), { denoise }), recognizer);
    const t = await turns.next();
    await turns.close();
    const heard = t.type === "utterance" || t.type === "too-long" ? t : null;
    const chosen = heard ? heardIn(matcher, heard.alternatives, "ready") : null;
    if (accepted(entry, chosen?.parse ?? null)) {
      ok++;
      voice.ok++;
    }
    const ref = said(entry.text);
    errors += editDistance(ref, tokenize(chosen?.reading.text ?? heard?.alternatives[0]?.text ?? "", "en"));
    words += ref.length;
    audioSeconds += entry.durationMs / 1000;
  }
  const cpu = process.cpuUsage(cpu0);
  report(`${label}: acceptance / WER / RTF`, `${pct(ok, entries.length)} / ${pct(errors, words)} / ${((cpu.user + cpu.system) / 1e6 / audioSeconds).toFixed(3)}  (${entries.length} files, whole files incl. padding)`);
  return byVoice;
}

const perVoice = (counts: VoiceCounts) => [...counts].map(([voice, c]) => `${voice} ${pct(c.ok, c.files)}`).join(", ");

/**
 * Where a voice enrolled (its readings clean, or in the fixtures' kind of noise at 10 dB: a room as
 * noisy as the test, not the same noise) and which fixtures its adapted model is then tested on.
 */
const ENROLLMENTS: { readIn: number | null; testAt: (number | null)[] }[] = [
  { readIn: null, testAt: [null, 10] },
  { readIn: 10, testAt: [10] },
];
const snrName = (snr: number | null) => (snr === null ? "clean" : `${snr} dB`);

/**
 * The same fixtures after each voice has enrolled (`talkcart enroll`): ENROLL_SENTENCES sentences
 * of the grammar, none of them a fixture's text, read in that voice; the model is MAP-adapted to
 * them and that voice's files are decoded with it. Beside it, per voice, the speaker-independent
 * figures; the conversations (spoken in CONVERSATION_VOICE) are replayed with that voice's model.
 */
async function enrolledFigures(engine: EngineName, domain: RecognitionDomain, matcher: IntentMatcher, manifest: ReturnType<typeof readManifest>, every: number, independent: Map<number | null, VoiceCounts>, template: string) {
  const { missing } = adaptationTools();
  if (missing.length) return report(`${engine} en, after enrollment`, `skipped: ${missing.join(", ")} not found (${ADAPTATION_HINT})`);
  const tested = new Set(manifest.files.filter((f) => f.locale === "en").map((f) => said(f.text).join(" ")));
  const files = modelFiles("en");
  const { jsgf, dictionary } = grammarWithDictionary(domain, files.dict);
  const prompts = enrollmentPrompts(jsgf, ENROLL_SENTENCES, { exclude: (text) => tested.has(text), examples: exampleRequests(join(root, "intents"), "en") });
  const work = mkdtempSync(join(tmpdir(), "talkcart-bench-enroll-"));
  try {
    for (const { readIn, testAt } of ENROLLMENTS) {
      const how = `enrolled ${readIn === null ? "clean" : `in ${snrName(readIn)} noise`}`;
      const totals = new Map<number | null, VoiceCounts>();
      let adaptMs = 0;
      for (const variant of VARIANTS.en) {
        const readings = await spokenReadings(prompts, variant, { snr: readIn ?? undefined });
        const started = performance.now();
        const model = join(work, `${variant.id}-${snrName(readIn)}`);
        await adaptModel({ baseModel: files.hmm, dictionary, readings, out: model });
        adaptMs += performance.now() - started;
        const recognizer = await createRecognizer(engine, domain, { acousticModel: model });
        try {
          for (const snr of testAt) {
            const entries = manifest.files.filter((f) => f.locale === "en" && f.variant === variant.id && f.snr === snr && inSample(f.text, every));
            const counts = await fixtureFigures(recognizer, matcher, entries, `  ${variant.id} ${snrName(snr)}, ${how}`);
            const total = totals.get(snr) ?? totals.set(snr, new Map()).get(snr)!;
            for (const [voice, c] of counts) total.set(voice, c);
          }
          if (variant.id === CONVERSATION_VOICE) {
            for (const snr of testAt) await conversationFigures(recognizer, template, matcher, snr, `${engine} en ${snrName(snr)} in context, ${how}`);
          }
        } finally {
          await recognizer.close();
        }
      }
      for (const [snr, counts] of totals) {
        const ok = [...counts.values()].reduce((sum, c) => sum + c.ok, 0);
        const n = [...counts.values()].reduce((sum, c) => sum + c.files, 0);
        report(`${engine} en ${snrName(snr)}, ${how}: acceptance`, `${pct(ok, n)}  (${n} files; each voice read ${ENROLL_SENTENCES} other sentences once, model MAP-adapted in ${(adaptMs / VARIANTS.en.length / 1000).toFixed(1)} s per voice)`);
        report("  per voice, enrolled", perVoice(counts));
        const before = independent.get(snr);
        if (before) report("  per voice, speaker-independent", perVoice(before));
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Turns at the pace of speech, as from a microphone: decoding keeps up while the person speaks.
 * Latency is counted from the end of speech (the VAD's last speech frame) to the reply text, so it
 * includes the trailing silence the endpointer waits for (250 ms after a whole sentence of the
 * grammar, else 600 ms).
 */
async function livePacedLatency(recognizer: Recognizer, template: string, matcher: IntentMatcher, turns: number, label: string) {
  const manifest = readManifest(fixturesDir);
  const entries = manifest.files.filter((f) => f.locale === "en" && f.variant === CONVERSATION_VOICE && f.snr === null).slice(0, turns);
  const paths = await ensureFixtures(entries, { fixturesDir });
  const dir = mkdtempSync(join(tmpdir(), "talkcart-bench-live-"));
  copyFileSync(template, join(dir, "shop.sqlite"));
  const shop = await SqlShop.open(await openSqlite(join(dir, "shop.sqlite")));
  const toTranscript: number[] = [];
  const toReply: number[] = [];
  try {
    for (const path of paths) {
      const session = new Session({ matcher, shop, shopperId: "demo", locale: "en" });
      const listening = new StreamingTurns(wavFileSource(path, { paced: true }), recognizer);
      const started = performance.now();
      const heard = await listening.next({ context: session.expecting });
      const transcribed = performance.now();
      await listening.close();
      if (heard.type === "utterance") {
        await session.hear(heard.alternatives);
        // paced: wall time = audio time, so end of speech is at started + endMs
        toTranscript.push(transcribed - started - heard.endMs);
        toReply.push(performance.now() - started - heard.endMs);
      }
      session.stop();
    }
  } finally {
    await shop.close();
    rmSync(dir, { recursive: true, force: true });
  }
  report(`${label}: end of speech -> final transcript -> reply p50/p95`, `${percentile(toTranscript, 50).toFixed(0)} / ${percentile(toTranscript, 95).toFixed(0)} ms -> ${percentile(toReply, 50).toFixed(0)} / ${percentile(toReply, 95).toFixed(0)} ms  (${toReply.length} turns at the pace of speech, from the VAD's last speech frame: the trailing silence waited for is included)`);
}

async function conversationFigures(recognizer: Recognizer, template: string, matcher: IntentMatcher, snr: number | null, label: string) {
  const manifest = readManifest(fixturesDir);
  const toTranscript: number[] = [];
  const toReply: number[] = [];
  let turnsOk = 0, turnsAll = 0, convOk = 0, convAll = 0;
  for (const file of conversationFiles().filter((f) => f.startsWith("en-"))) {
    const conv = readConversation(file);
    const dir = mkdtempSync(join(tmpdir(), "talkcart-bench-conv-"));
    copyFileSync(template, join(dir, "shop.sqlite"));
    const shop = await SqlShop.open(await openSqlite(join(dir, "shop.sqlite")));
    const session = new Session({ matcher, shop, shopperId: "demo", locale: "en" });
    const ordersAtStart = (await shop.orders("demo", 1000)).length;
    let all = true;
    try {
      for (const turn of conv.turns) {
        const entry = recordingOf(manifest, turn.you, { locale: "en", variant: CONVERSATION_VOICE, snr });
        if (!entry) { all = false; break; } // a no-input turn: not in the audio set
        const [path] = await ensureFixtures([entry], { fixturesDir });
        const [heard] = await replaySource(wavFileSource(path), recognizer, session);
        turnsAll++;
        const miss = heard ? await turnMismatch(shop, "demo", turn, { ...heard, ended: session.ended }, ordersAtStart) : "nothing heard";
        if (heard) {
          toTranscript.push(heard.timings.recognizeMs);
          toReply.push(heard.timings.recognizeMs + heard.timings.replyMs);
        }
        if (miss) { all = false; break; } // later turns depend on this one
        turnsOk++;
      }
    } finally {
      session.stop();
      await shop.close();
      rmSync(dir, { recursive: true, force: true });
    }
    convAll++;
    if (all) convOk++;
  }
  report(`${label}: conversations / turns as typed`, `${convOk} of ${convAll} (${pct(convOk, convAll)}) / ${turnsOk} of ${turnsAll} turns (${pct(turnsOk, turnsAll)}; a conversation stops at its first miss)`);
  report(`${label}: decode after end of speech p50/p95`, `${percentile(toTranscript, 50).toFixed(0)} / ${percentile(toTranscript, 95).toFixed(0)} ms -> reply ${percentile(toReply, 50).toFixed(0)} / ${percentile(toReply, 95).toFixed(0)} ms  (${toReply.length} turns replayed unpaced: the whole utterance is decoded after its end)`);
}

/** The node flags the talkcart launcher runs with: those of its `#!/usr/bin/env -S node ...` line. */
function launcherNodeFlags(): string[] {
  const shebang = readFileSync(join(root, "bin/talkcart.js"), "utf8").split("\n", 1)[0];
  return shebang.split(/\s+/).filter((word) => word.startsWith("--"));
}

/** The assistant's own peak RSS over 100 spoken turns, measured in a fresh process (voice-rss.ts) run as the launcher runs node. */
function replayRss(engine: string, template: string): string {
  const flags = launcherNodeFlags();
  const run = spawnSync(process.execPath, [...flags, join(root, "dist/bench/voice-rss.js"), engine, template], { encoding: "utf8", timeout: 600_000 });
  const line = run.stdout.trim().split("\n").at(-1) ?? "";
  if (run.status !== 0 || !line.startsWith("{")) return `failed: ${(run.stderr || run.stdout).trim().split("\n").at(-1)}`;
  const { turns, peakRssMb } = JSON.parse(line) as { turns: number; peakRssMb: number };
  return `${peakRssMb} MB  (${turns} turns of the en conversation tests, in a process of its own: node ${flags.join(" ")}, shop, NLU, recognizer, dialogue)`;
}

async function main() {
  const manifest = readManifest(fixturesDir);
  const every = process.env.TALKCART_BENCH_VOICE === "full" ? 1 : 2;
  const dir = mkdtempSync(join(tmpdir(), "talkcart-bench-voice-"));
  const template = join(dir, "template.sqlite");
  const shop = await SqlShop.open(await openSqlite(template));
  const grammar = loadGrammar(join(root, "intents"), "en");
  const matcher = new IntentMatcher(grammar, shop.index.scorer("en"));
  const phrases = catalogPhrasesOf({ categories: shop.categories(), products: await shop.allProducts() }, "en");
  const domain = domainFor(grammar, phrases);
  await shop.close();
  try {
    for (const engine of ENGINES) {
      let recognizer: Recognizer;
      const t0 = performance.now();
      try {
        recognizer = await createRecognizer(engine, domain);
        await (recognizer as { ready?: () => Promise<void> }).ready?.();
      } catch (e) {
        if (!(e instanceof RecognizerUnavailable)) throw e;
        report(`${engine} en`, `skipped: ${e.message.slice(engine.length + 2, engine.length + 140)}`);
        continue;
      }
      report(`${engine} en: start-up (grammar and searches)`, `${(performance.now() - t0).toFixed(0)} ms`);
      try {
        const liveOnly = process.env.TALKCART_BENCH_VOICE === "live";
        // With --denoise (RNNoise) beside the same files as they are: it is opt-in, see src/audio/denoiser.ts.
        const independent = new Map<number | null, VoiceCounts>();
        for (const [snr, denoise] of liveOnly ? [] : ([[null, false], [20, false], [10, false], [10, true], [5, false], [5, true]] as const)) {
          const entries = manifest.files.filter((f) => f.locale === "en" && f.snr === snr && inSample(f.text, every));
          const counts = await fixtureFigures(recognizer, matcher, entries, `${engine} en ${snrName(snr)}${denoise ? " --denoise" : ""}`, denoise);
          if (!denoise) independent.set(snr, counts);
        }
        for (const snr of liveOnly ? [] : [null, 10]) await conversationFigures(recognizer, template, matcher, snr, `${engine} en ${snrName(snr)} in context`);
        await livePacedLatency(recognizer, template, matcher, 20, `${engine} en live pace`);
        report(`${engine} en: peak RSS, this benchmark`, `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (all of the above in one process)`);
        report(`${engine} en: peak RSS replaying spoken turns`, replayRss(engine, template));
        // Last: it builds more recognizers, which would count in this process's peak RSS above.
        if (!liveOnly && engine === "pocketsphinx") await enrolledFigures(engine, domain, matcher, manifest, every, independent, template);
      } finally {
        await recognizer.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
