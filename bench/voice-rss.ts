/**
 * Peak RSS of the assistant replaying 100 spoken turns, in a process of its own (started by
 * bench/voice.ts): one shop, the NLU, one recognizer and a dialogue session per conversation,
 * the turns of the English conversation tests from their committed recordings (en-us, 150 wpm),
 * each through the endpointer, the recognizer, the NLU and the dialogue. Besides the fixture
 * manifest nothing else is held, so the figure is the pipeline's own, not the benchmark's bookkeeping.
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
import { wavFileSource } from "../src/audio/sources.js";
import { replaySource } from "../src/cli/voice-commands.js";
import { Session } from "../src/dialogue/session.js";
import { conversationFiles, readConversation } from "../src/fixtures/conversations.js";
import { ensureFixtures, readManifest } from "../src/fixtures/fixtures.js";
import { loadGrammar } from "../src/nlu/load-intents.js";
import { IntentMatcher } from "../src/nlu/matcher.js";
import { openSqlite } from "../src/shop/db.js";
import { SqlShop } from "../src/shop/sql-shop.js";
import { catalogPhrasesOf } from "../src/speech/jsgf.js";
import { createRecognizer, domainFor, ENGINES, type EngineName } from "../src/speech/engines.js";

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
  const dir = mkdtempSync(join(tmpdir(), "talkcart-bench-rss-"));
  copyFileSync(template, join(dir, "shop.sqlite"));
  const shop = await SqlShop.open(await openSqlite(join(dir, "shop.sqlite")));
  const grammar = loadGrammar(join(root, "intents"), "en");
  const matcher = new IntentMatcher(grammar, shop.index.scorer("en"));
  const phrases = catalogPhrasesOf({ categories: shop.categories(), products: await shop.allProducts() }, "en");
  const recognizer = await createRecognizer(engine, domainFor(grammar, phrases));
  const manifest = readManifest(fixturesDir);
  let turns = 0;
  try {
    for (const file of conversationFiles().filter((f) => f.startsWith("en-"))) {
      const session = new Session({ matcher, shop, shopperId: "demo", locale: "en" });
      for (const turn of readConversation(file).turns) {
        const entry = manifest.files.find((f) => f.locale === "en" && f.variant === "en-us-s150" && f.snr === null && f.text === turn.you);
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
    await shop.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ turns, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

await main();
