import { existsSync, rmSync } from "node:fs";
import type { Command } from "commander";
import { loadIntents, openShop } from "../assistant.js";
import { ConfigError, type Config } from "../config.js";
import { Listener } from "../audio/endpointer.js";
import { microphoneSource, probeMicrophone } from "../audio/microphone.js";
import { domainFor } from "../speech/engines.js";
import { enrollmentDir, enrollmentSentences, readingsIn, recordSentences, writePrompts, type RecordingEvent } from "../speech/enrollment.js";
import { DEFAULT_PROMPTS, enrollmentPrompts } from "../speech/enrollment-prompts.js";
import { grammarWithDictionary, modelFiles } from "../speech/pocketsphinx.js";
import { ReadingCheck } from "../speech/reading-check.js";
import { AdaptationError, adaptModel, enrolledModelDir, enrollmentInfo, MIN_READINGS } from "../speech/speaker-adaptation.js";
import { RecognizerUnavailable } from "../speech/types.js";
import { catalogPhrases } from "./voice-commands.js";

function unavailable(e: unknown): never {
  if (e instanceof RecognizerUnavailable || e instanceof AdaptationError) throw new ConfigError(e.message);
  throw e;
}

const describe = (e: RecordingEvent): string => {
  switch (e.type) {
    case "prompt": return `\n${e.position}/${e.total}${e.attempt > 1 ? " (again)" : ""}  Read aloud:  ${e.sentence.text}`;
    case "saved": return `  kept (${e.seconds.toFixed(1)} s)`;
    case "retry": return e.why === "misread" ? `  that sounded like "${e.heard ?? "nothing"}": read it once more` : e.why === "no-input" ? "  nothing heard: read the sentence aloud" : "  too long: read just the sentence";
    case "skipped": return "  left for later (run talkcart enroll again to read it)";
  }
};

export function registerEnrollCommand(program: Command, helpers: { config: (cmd: Command) => Config; out: (cmd: Command, json: unknown, text: () => string) => void }) {
  program.command("enroll")
    .description("adapt the offline recognizer (pocketsphinx) to your voice: read a few dozen sentences once")
    .option("--sentences <n>", `how many sentences to read (default ${DEFAULT_PROMPTS})`, (v) => Number.parseInt(v, 10))
    .option("--from <dir>", "use recordings made elsewhere: NNN.wav beside NNN.txt (the sentence)")
    .option("--device <name>", "capture device, e.g. plughw:1,0")
    .option("--restart", "forget earlier recordings and start with new sentences")
    .option("--remove", "delete the adapted model: back to the speaker-independent one")
    .action(async (o: { sentences?: number; from?: string; device?: string; restart?: boolean; remove?: boolean }, cmd: Command) => {
      const cfg = helpers.config(cmd);
      const modelDir = enrolledModelDir(cfg.dataDir, cfg.locale);
      if (o.remove) {
        const had = existsSync(modelDir);
        rmSync(modelDir, { recursive: true, force: true });
        helpers.out(cmd, { removed: had ? modelDir : null }, () => (had ? `removed ${modelDir}: the speaker-independent model is used again` : "there was no adapted model"));
        return;
      }
      const count = o.sentences ?? DEFAULT_PROMPTS;
      if (!(count >= MIN_READINGS)) throw new ConfigError(`--sentences: at least ${MIN_READINGS}`);
      const dir = o.from ?? enrollmentDir(cfg.dataDir, cfg.locale);
      if (o.from && !existsSync(o.from)) throw new ConfigError(`--from ${o.from}: no such folder`);
      if (o.restart && !o.from) rmSync(dir, { recursive: true, force: true });

      let files: { hmm: string; dict: string };
      let grammar: ReturnType<typeof grammarWithDictionary>;
      const shop = await openShop(cfg);
      try {
        files = modelFiles(cfg.locale);
        grammar = grammarWithDictionary(domainFor(loadIntents(cfg, cfg.locale), await catalogPhrases(shop, cfg.locale)), files.dict);
      } catch (e) {
        unavailable(e);
      } finally {
        await shop.close();
      }
      if (!o.from) writePrompts(dir, enrollmentPrompts(grammar.jsgf, count));
      const sentences = enrollmentSentences(dir);
      if (sentences.length === 0) throw new ConfigError(`${dir}: no sentences (NNN.txt files) to read`);
      let check: ReadingCheck;
      try {
        check = new ReadingCheck({ hmm: files.hmm, dictionary: grammar.dictionary, prompts: sentences.map((s) => s.text) });
      } catch (e) {
        unavailable(e);
      }
      try {
        if (!o.from && sentences.some((s) => !s.recorded)) await recordLive(dir, check, o.device);
        const readings = await readingsIn(dir);
        // Recordings made elsewhere get the same check as live ones: a misread would teach wrong sounds.
        const misread: string[] = [];
        for (const r of readings) {
          const heard = await check.heard(r.pcm);
          if (heard !== r.text) misread.push(`${r.name} sounds like "${heard ?? "nothing"}", not "${r.text}"`);
        }
        if (misread.length) throw new ConfigError(`${misread.join("; ")}: record ${misread.length === 1 ? "it" : "them"} again (or delete the .wav to leave it out)`);
        if (readings.length < MIN_READINGS) {
          throw new ConfigError(`${readings.length} of ${sentences.length} sentences recorded in ${dir}; at least ${MIN_READINGS} are needed: run talkcart enroll again to go on`);
        }
        const started = Date.now();
        const info = await adaptModel({ baseModel: files.hmm, dictionary: grammar.dictionary, readings, out: modelDir }).catch(unavailable);
        helpers.out(cmd, { model: modelDir, ...info }, () =>
          `Adapted to your voice from ${info.readings} sentences (${info.seconds} s of speech) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${modelDir}\n` +
          "talkcart listen, replay and transcribe use it from now on; talkcart enroll --remove goes back to the speaker-independent model.");
      } finally {
        check.close();
      }
    });
}

/** Reads the sentences still missing a recording from the microphone; Ctrl-C stops with what was saved kept. */
async function recordLive(dir: string, check: ReadingCheck, device?: string) {
  const mic = await probeMicrophone({ device });
  if (!mic.ok) {
    throw new ConfigError(`${mic.error.message}. The sentences are in ${dir}: record each NNN.txt as NNN.wav there (or with --from elsewhere), then run talkcart enroll again`);
  }
  console.log(`Read each sentence aloud as you would speak to talkcart. Recordings go to ${dir}; Ctrl-C stops, and the next run goes on from there.`);
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once("SIGINT", onSigint);
  // Reading aloud has pauses inside a sentence: wait longer than for a request before it counts as ended.
  const listener = new Listener(microphoneSource({ device }), { trailingSilenceMs: 1000 });
  try {
    await recordSentences(dir, { listener, check, signal: stop.signal, onEvent: (e) => console.log(describe(e)) });
  } finally {
    process.off("SIGINT", onSigint);
    await listener.close();
  }
  if (stop.signal.aborted) {
    const left = enrollmentSentences(dir).filter((s) => !s.recorded).length;
    throw new ConfigError(`stopped: ${left} sentences still to read in ${dir}; run talkcart enroll again to go on`);
  }
}
