/**
 * Peak RSS of the assistant replaying 100 spoken turns, in a process of its own (started by
 * bench/voice.ts). The assistant is put together as `talkcart replay` does it (openAssistant,
 * openRecognizer: shop, NLU, turn log, recognizer); the turns are those of the English
 * conversation tests, from their committed recordings (en-us, 150 wpm), a session per
 * conversation. Besides the fixture manifest nothing else is held, so the figure is the
 * pipeline's own, not the benchmark's bookkeeping.
 *
 * The shop is a copy of an already seeded database (TEMPLATE, from bench/voice.ts), as an
 * assistant finds it after its first start: seeding is not part of the figure.
 *
 *   node dist/bench/voice-rss.js ENGINE TEMPLATE.sqlite -> one JSON line {"turns": 100, "peakRssMb": ...}
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openAssistant } from "../src/assistant.js";
import { wavFileSource } from "../src/audio/sources.js";
import { openRecognizer, replaySource } from "../src/cli/voice-commands.js";
import { loadConfig } from "../src/config.js";
import { conversationFiles, readConversation } from "../src/fixtures/conversations.js";
import { ensureFixtures, readManifest, recordingOf } from "../src/fixtures/fixtures.js";
import { ENGINES, type EngineName } from "../src/speech/engines.js";

const TURNS = 100;
const root = fileURLToPath(new URL("../..", import.meta.url)); // built to dist/bench/voice-rss.js
const fixturesDir = join(root, "audio-fixtures");

async function main() {
  const engine = (process.argv[2] ?? "pocketsphinx") as EngineName;
  const template = process.argv[3];
  if (!ENGINES.includes(engine) || !template) {
    console.error(`usage: node dist/bench/voice-rss.js ENGINE TEMPLATE.sqlite (ENGINE: ${ENGINES.join(", ")}; TEMPLATE: a seeded shop database)`);
    process.exit(2);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "talkcart-bench-rss-"));
  copyFileSync(template, join(dataDir, "shop.sqlite"));
  const config = loadConfig({ data: dataDir, locale: "en" }, {}); // no DATABASE_URL: the embedded store
  const assistant = await openAssistant(config);
  const recognizer = await openRecognizer(config, assistant.shop, engine);
  const manifest = readManifest(fixturesDir);
  let turns = 0;
  try {
    for (const file of conversationFiles().filter((f) => f.startsWith("en-"))) {
      const session = assistant.session();
      for (const turn of readConversation(file).turns) {
        const entry = recordingOf(manifest, turn.you, { locale: "en", variant: "en-us-s150", snr: null });
        if (!entry || turns >= TURNS) continue;
        const [path] = await ensureFixtures([entry], { fixturesDir });
        await replaySource(wavFileSource(path), recognizer, session);
        turns++;
      }
      session.stop();
      if (turns >= TURNS) break;
    }
  } finally {
    await recognizer.close();
    await assistant.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ turns, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

await main();
