import { createInterface } from "node:readline";
import { Command, Option } from "commander";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, ConfigError, LOCALES, type Config } from "../config.js";
import { explainOpenError, loadIntents, openAssistant, openDatabaseFor, openShop } from "../assistant.js";
import { IntentFileError } from "../nlu/load-intents.js";
import { IntentMatcher } from "../nlu/matcher.js";
import { LabelledFileError } from "../nlu/evaluate.js";
import { SqlShop } from "../shop/sql-shop.js";
import { ShopError, type Locale } from "../shop/types.js";
import { MissingResponseError } from "../voice/reply.js";
import type { TurnTrace } from "../dialogue/session.js";
import { intentsCheck, intentsEval } from "./intents-commands.js";
import { DEMO_PIN } from "../shop/seed.js";
import { byArea, deviceChecks, doctor, formatChecks } from "./doctor.js";
import { registerVoiceCommands } from "./voice-commands.js";
import { registerEnrollCommand } from "./enroll-command.js";
import { enrolledModel } from "../speech/speaker-adaptation.js";
import { downloadModel, formatModelsReport, formatProgress, ModelDownloadError, modelsReport, type DownloadProgress } from "../speech/models.js";
import { chosenVoice, openSynthesizer, VOICES } from "../voice/synthesizers.js";
import { SynthesizerUnavailable } from "../voice/synthesizer.js";
import { playPcm } from "../voice/playback.js";
import { writeWav } from "../audio/wav.js";
import { AudioError } from "../audio/types.js";
import { SpeechServiceError } from "../speech/types.js";

interface GlobalOpts { locale?: string; json?: boolean; data?: string; intents?: string; trace?: boolean }


const program = new Command("talkcart")
  .description("A voice shopping assistant: say (or type) what you want in your cart.")
  .addOption(new Option("--locale <locale>", "language of the conversation (en, de)"))
  .option("--json", "machine-readable output on stdout, nothing else")
  .option("--data <dir>", "folder for the embedded shop database and logs (default ./data, or TALKCART_DATA)")
  .option("--intents <dir>", "intent files to use instead of the bundled ones (or TALKCART_INTENTS)")
  .option("--trace", "print each turn's structured log line to stderr")
  .showHelpAfterError();

const opts = (cmd: Command): GlobalOpts => cmd.optsWithGlobals();
const config = (cmd: Command): Config => loadConfig(opts(cmd));
const out = (cmd: Command, json: unknown, text: () => string) => console.log(opts(cmd).json ? JSON.stringify(json, null, 2) : text());

/** Typed mode; `why` voice is off, and `fix`, what would turn it on. */
async function chat(cmd: Command, why?: string, fix = "connect a microphone and run `talkcart doctor`") {
  const assistant = await openAssistant(config(cmd));
  const session = assistant.session();
  const json = opts(cmd).json;
  if (!json) {
    console.log(`Typed mode${why ? `: ${why}` : ""}. To talk instead: ${fix}.`);
    console.log(`Shopping as '${assistant.config.shopperId}' (demo PIN ${DEMO_PIN}). Type what you would say; an empty line is silence; Ctrl-D quits.`);
  }
  // Lines are read as a stream (not rl.question), so piped input is never dropped between prompts.
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY, prompt: json ? "" : "you> " });
  try {
    rl.prompt();
    for await (const line of rl) {
      const t = await session.turn(line);
      console.log(json ? JSON.stringify(t) : `${process.stdin.isTTY ? "" : `${line}\n`}talkcart> ${t.reply}`);
      if (session.ended) break;
      rl.prompt();
    }
  } finally {
    rl.close();
    session.stop();
    await assistant.close();
  }
}

program.command("chat").description("typed conversation (readline)").action(async (_o, cmd: Command) => chat(cmd));

// `npm start`: voice when a microphone and a speech engine are there, else typed mode saying why.
program.command("start", { isDefault: true, hidden: true }).action(async (_o, cmd: Command) => {
  const ready = await voiceReadiness(config(cmd));
  if (ready.ok) return listen(cmd, {});
  return chat(cmd, ready.why);
});

program.command("say").argument("<text>", "what you would say").description("one turn: the reply and its trace")
  .action(async (text: string, _o, cmd: Command) => {
    const assistant = await openAssistant(config(cmd));
    const session = assistant.session();
    try {
      const t = await session.turn(text);
      out(cmd, t, () => `${t.reply}\n${formatTrace(t)}`);
    } finally {
      session.stop();
      await assistant.close();
    }
  });

program.command("catalog").argument("[query]", "words to search for").description("list or search the catalog")
  .action(async (query: string | undefined, _o, cmd: Command) => {
    const cfg = config(cmd);
    const shop = await openShop(cfg);
    try {
      const products = query ? await shop.search(query, cfg.locale, 50) : await shop.allProducts();
      out(cmd, products, () => products.map((p) => `${p.id.padEnd(40)} ${(p.name + variantText(p.variant)).padEnd(44)} ${euro(p.price).padStart(9)}  stock ${p.stock}`).join("\n") || "no products found");
    } finally {
      await shop.close();
    }
  });

program.command("orders").description("the shopper's orders, newest first").action(async (_o, cmd: Command) => {
  const cfg = config(cmd);
  const shop = await openShop(cfg);
  try {
    const orders = await shop.orders(cfg.shopperId, 50);
    out(cmd, orders, () => orders.map((o) => `#${o.id}  ${o.placedAt.slice(0, 10)}  ${o.status.padEnd(10)} ${euro(o.total).padStart(9)}  ${o.lines.map((l) => `${l.quantity}x ${l.product.name}`).join(", ")}`).join("\n") || "no orders");
  } finally {
    await shop.close();
  }
});

const shopCmd = program.command("shop").description("manage the embedded demo shop");
shopCmd.command("reset").description("reload the demo catalog, shoppers, orders and stock").action(async (_o, cmd: Command) => {
  const cfg = config(cmd);
  const db = await openDatabaseFor(cfg);
  try {
    await SqlShop.reset(db);
  } catch (e) {
    throw explainOpenError(e, cfg);
  } finally {
    await db.db.destroy();
  }
  out(cmd, { reset: true, location: db.location }, () => `Demo shop reset (${db.location}). Demo shopper: demo, PIN ${DEMO_PIN}.`);
});

const intentsCmd = program.command("intents").description("check, try and evaluate the intent files");
const matcherFor = async (cmd: Command) => {
  const cfg = config(cmd);
  const shop = await openShop(cfg);
  const matcher = new IntentMatcher(loadIntents(cfg, cfg.locale), shop.index.scorer(cfg.locale));
  return { matcher, shop };
};
intentsCmd.command("check").description("validate all intent files and count each intent's expansions").action(async (_o, cmd: Command) => {
  const cfg = config(cmd);
  // Without --locale: every locale the intents folder has (a developer's own domain may have only one).
  const locales: Locale[] = opts(cmd).locale ? [cfg.locale] : LOCALES.filter((l) => existsSync(join(cfg.intentsDir, l)));
  const report = locales.map((locale) => ({ locale, intents: intentsCheck(new IntentMatcher(loadIntents(cfg, locale))) }));
  out(cmd, report, () => report.map((r) => `${r.locale}: ${r.intents.length} intents, all files valid\n${r.intents.map((i) => `  ${i.intent.padEnd(16)} ${String(i.templates).padStart(4)} templates ${String(i.expansions).padStart(10)} expansions`).join("\n")}`).join("\n"));
});
intentsCmd.command("test").argument("<sentence>").description("show how a sentence parses").action(async (sentence: string, _o, cmd: Command) => {
  const { matcher, shop } = await matcherFor(cmd);
  try {
    const r = matcher.parse(sentence);
    const view = { text: r.text, tokens: r.tokens, intent: r.best?.intent ?? null, slots: r.best?.slots ?? {}, score: r.best?.score ?? null,
      template: r.best ? `${r.best.sentence.source.file}:${r.best.sentence.source.line}` : null,
      alternatives: r.alternatives.map((a) => ({ intent: a.intent, slots: a.slots, score: Math.round(a.score * 1000) / 1000 })) };
    out(cmd, view, () => [
      `intent: ${view.intent ?? "(none: out of domain)"}`, `slots: ${JSON.stringify(view.slots)}`, `score: ${view.score?.toFixed(3) ?? "-"}`,
      `template: ${view.template ?? "-"}`, "alternatives:", ...view.alternatives.map((a) => `  ${a.score.toFixed(3)}  ${a.intent} ${JSON.stringify(a.slots)}`),
    ].join("\n"));
  } finally {
    await shop.close();
  }
});
intentsCmd.command("eval").argument("<file.tsv>", "labelled utterances: intent<TAB>utterance[<TAB>slot=value;...]").description("intent accuracy, slot F1 and confusions")
  .action(async (file: string, _o, cmd: Command) => {
    const { matcher, shop } = await matcherFor(cmd);
    try {
      const r = intentsEval(matcher, file);
      out(cmd, r, () => [
        `utterances: ${r.total}`, `intent accuracy: ${(r.intentAccuracy * 100).toFixed(1)}%`,
        `slot F1: ${(r.slotF1 * 100).toFixed(1)}% (precision ${(r.slotPrecision * 100).toFixed(1)}%, recall ${(r.slotRecall * 100).toFixed(1)}%)`,
        "confusions (expected -> got):", ...r.confusions.map((c) => `  ${String(c.count).padStart(3)}  ${c.expected} -> ${c.got}   e.g. "${c.examples[0]}"`),
      ].join("\n"));
    } finally {
      await shop.close();
    }
  });

program.command("speak").argument("<text>", "what to say").description("speak a text with the reply voice")
  .option("--out <file.wav>", "write the speech to a WAV file instead of playing it")
  .option("--device <name>", "output device for sox play / aplay")
  .option("--tts <voice>", `reply voice: ${VOICES.join(", ")} (default: TALKCART_TTS, else espeak)`)
  .action(async (text: string, o: { out?: string; device?: string; tts?: string }, cmd: Command) => {
    const cfg = config(cmd);
    const voice = await openSynthesizer(chosenVoice(o.tts), (e) => console.error(`(${e.message}; espeak-ng speaks instead)`));
    const pcm = await voice.synthesize(text, cfg.locale).finally(() => voice.close());
    const seconds = Math.round((pcm.length / 16_000) * 100) / 100;
    if (o.out) {
      await writeWav(o.out, pcm);
      out(cmd, { out: o.out, seconds }, () => `wrote ${o.out} (${seconds} s)`);
      return;
    }
    const outcome = await playPcm(pcm, { device: o.device }).done;
    if (outcome.status === "failed") throw outcome.error;
    out(cmd, { played: true, seconds }, () => `spoke ${seconds} s`);
  });

const { listen, voiceReadiness } = registerVoiceCommands(program, { config, out, chat });
registerEnrollCommand(program, { config, out });

program.command("models").description("which speech models are installed, and how to get one")
  .option("--download <name>", "download and install a known Vosk model (needs the internet)")
  .option("--sha256 <hex>", "the model archive's published SHA-256 (required to install)")
  .action(async (o: { download?: string; sha256?: string }, cmd: Command) => {
    if (o.download) {
      const progress = (p: DownloadProgress) => { if (!opts(cmd).json) process.stderr.write(`\r${formatProgress(p)}`); };
      try {
        const installed = await downloadModel(o.download, { sha256: o.sha256, onProgress: progress });
        if (!opts(cmd).json) process.stderr.write("\n");
        out(cmd, installed, () => `installed ${installed.name} in ${installed.dir}`);
      } catch (e) {
        if (e instanceof ModelDownloadError) throw new ConfigError(e.message);
        throw e;
      }
      return;
    }
    const report = modelsReport();
    out(cmd, report, () => formatModelsReport(report));
  });

program.command("doctor").description("which capture tools, devices, engines, models and voices are present, and what to install")
  .option("--device <name>", "the capture and playback device to try (default: the system's), e.g. plughw:1,0")
  .action(async (o: { device?: string }, cmd: Command) => {
    // doctor must work even when a setting is wrong: without a config it just cannot look for an adapted model.
    let enrolled: string | undefined;
    try {
      const cfg = config(cmd);
      enrolled = enrolledModel(cfg.dataDir, cfg.locale);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
    const checks = byArea([...doctor(process.env, undefined, enrolled), ...(await deviceChecks(o.device))]);
    out(cmd, checks, () => formatChecks(checks));
  });

function formatTrace(t: TurnTrace): string {
  return [
    `  intent ${t.intent ?? "-"} ${JSON.stringify(t.slots)} score ${t.score ?? "-"}`,
    `  state ${t.stateBefore} -> ${t.stateAfter}   ${t.ms} ms`,
    ...t.shopCalls.map((c) => `  shop.${c.method} ${c.ms} ms${c.ok ? "" : " (failed)"}`),
  ].join("\n");
}

const euro = (cents: number) => `€${(cents / 100).toFixed(2)}`;
const variantText = (v: Record<string, string>) => (Object.keys(v).length ? ` (${Object.values(v).join(", ")})` : "");

/** Expected failures get one clear line and exit code 1; anything else is a bug and keeps its stack. */
function explain(e: unknown): string | null {
  if (e instanceof SpeechServiceError || e instanceof SynthesizerUnavailable || e instanceof IntentFileError || e instanceof ConfigError || e instanceof LabelledFileError || e instanceof MissingResponseError || e instanceof AudioError) return e.message;
  if (e instanceof ShopError) return `shop: ${e.message}`;
  const err = e as NodeJS.ErrnoException;
  if (err?.code === "ENOENT" && err.path) return `no such file: ${err.path}`;
  return null;
}

program.parseAsync().catch((e) => {
  const message = explain(e);
  if (message === null) throw e;
  console.error(`talkcart: ${message}`);
  process.exitCode = 1;
});
