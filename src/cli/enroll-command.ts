import { existsSync, rmSync, statSync } from "node:fs";
import type { Command } from "commander";
import { loadIntents, openShop } from "../assistant.js";
import { ConfigError, type Config } from "../config.js";
import { Listener } from "../audio/endpointer.js";
import { microphoneSource, probeMicrophone } from "../audio/microphone.js";
import { domainFor } from "../speech/engines.js";
import { enrollmentDir, enrollmentSentences, readingsIn, recordSentences, unmatchedRecordings, writePrompts, type RecordingEvent } from "../speech/enrollment.js";
import { exampleRequests } from "../nlu/sentence-tests.js";
import { DEFAULT_PROMPTS, enrollmentPrompts } from "../speech/enrollment-prompts.js";
import { grammarWithDictionary, modelFiles } from "../speech/pocketsphinx.js";
import { ReadingCheck } from "../speech/reading-check.js";
import { AdaptationError, adaptModel, enrolledModelDir, MIN_READINGS, recoverInterrupted, unpronounceable } from "../speech/speaker-adaptation.js";
import { RecognizerUnavailable } from "../speech/types.js";
import { catalogPhrases } from "./voice-commands.js";

interface EnrollOptions { sentences?: number; from?: string; device?: string; restart?: boolean; remove?: boolean }

/** Expected failures of the engine or the tools: one line, as a ConfigError. */
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
    .option("--restart", "forget earlier recordings and start over with other sentences")
    .option("--remove", "delete the adapted model: back to the speaker-independent one")
    .action(async (o: EnrollOptions, cmd: Command) => {
      // With --json stdout carries the result alone; the sentences to read go to stderr.
      const say = cmd.optsWithGlobals().json ? (line: string) => void process.stderr.write(`${line}\n`) : (line: string) => console.log(line);
      await enroll(helpers.config(cmd), o, (json, text) => helpers.out(cmd, json, text), say);
    });
}

async function enroll(cfg: Config, o: EnrollOptions, out: (json: unknown, text: () => string) => void, say: (line: string) => void) {
  const modelDir = enrolledModelDir(cfg.dataDir, cfg.locale);
  if (o.remove) {
    recoverInterrupted(modelDir);
    const had = existsSync(modelDir);
    rmSync(modelDir, { recursive: true, force: true });
    return out({ removed: had ? modelDir : null }, () => (had ? `removed ${modelDir}: the speaker-independent model is used again` : "there was no adapted model"));
  }
  if (o.sentences !== undefined && !(o.sentences >= MIN_READINGS)) throw new ConfigError(`--sentences: at least ${MIN_READINGS}`);
  if (o.from && o.restart) throw new ConfigError("--restart starts over in the data folder; it does not go with --from");
  if (o.from && !(existsSync(o.from) && statSync(o.from).isDirectory())) throw new ConfigError(`--from ${o.from}: not a folder`);
  const dir = o.from ?? enrollmentDir(cfg.dataDir, cfg.locale);
  if (o.restart) rmSync(dir, { recursive: true, force: true });
  recoverInterrupted(modelDir); // an adaptation killed halfway may hold the last model

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
  if (!o.from) {
    const earlier = enrollmentSentences(dir, cfg.locale);
    if (o.sentences !== undefined && earlier.length > 0 && earlier.length !== o.sentences) {
      throw new ConfigError(`${dir} already has ${earlier.length} sentences (${earlier.filter((s) => s.recorded).length} recorded): leave out --sentences to go on with them, or run talkcart enroll --restart --sentences ${o.sentences} to start over`);
    }
    // A restart draws other sentences; otherwise the same ones every time, so a run can go on where the last stopped.
    if (earlier.length === 0) {
      const examples = exampleRequests(cfg.intentsDir, cfg.locale);
      writePrompts(dir, enrollmentPrompts(grammar.jsgf, o.sentences ?? DEFAULT_PROMPTS, { seed: o.restart ? Date.now() : 1, examples, locale: cfg.locale }));
    }
  }
  const sentences = enrollmentSentences(dir, cfg.locale);
  if (sentences.length === 0) throw new ConfigError(`${dir}: no sentences (NNN.txt files) to read`);
  const unmatched = unmatchedRecordings(dir);
  if (unmatched.length) throw new ConfigError(`${dir}: ${unmatched.join(", ")} ${unmatched.length === 1 ? "has" : "have"} no sentence beside it (NNN.txt with what was read)`);
  const blank = sentences.filter((s) => !s.text);
  if (blank.length) throw new ConfigError(`${blank.map((s) => `${s.name}.txt`).join(", ")}: no words to read; write the sentence in it or delete it`);
  const unknown = unpronounceable(sentences.map((s) => ({ name: `${s.name}.txt`, text: s.text })), grammar.dictionary);
  if (unknown.length) throw new ConfigError(`${unknown.join("; ")}: the grammar does not know ${unknown.length === 1 ? "that word" : "those words"}; edit the sentence${o.from ? "" : ", or run talkcart enroll --restart for new ones"}`);

  let check: ReadingCheck;
  try {
    check = new ReadingCheck({ hmm: files.hmm, dictionary: grammar.dictionary, prompts: sentences.map((s) => s.text) });
  } catch (e) {
    unavailable(e);
  }
  try {
    const checked = !o.from && sentences.some((s) => !s.recorded) ? await recordLive(dir, cfg.locale, check, say, o.device) : new Set<string>();
    const readings = await readingsIn(dir, cfg.locale);
    // Recordings made elsewhere (or in an earlier run) get the same check as live ones: a misread would teach wrong sounds.
    const misread: string[] = [];
    for (const r of readings.filter((r) => !checked.has(r.name))) {
      const heard = await check.heard(r.pcm);
      if (heard !== r.text) misread.push(`${r.name} sounds like "${heard ?? "nothing"}", not "${r.text}"`);
    }
    if (misread.length) throw new ConfigError(`${misread.join("; ")}: record ${misread.length === 1 ? "it" : "them"} again (or delete the .wav to leave it out)`);
    if (readings.length < MIN_READINGS) {
      const more = o.from ? `record at least ${MIN_READINGS}` : "run talkcart enroll again to go on";
      throw new ConfigError(`${readings.length} of ${sentences.length} sentences recorded in ${dir}; adaptation needs at least ${MIN_READINGS}: ${more}`);
    }
    const started = Date.now();
    const info = await adaptModel({ baseModel: files.hmm, dictionary: grammar.dictionary, readings, out: modelDir }).catch(unavailable);
    out({ model: modelDir, ...info }, () =>
      `Adapted to your voice from ${info.readings} sentences (${info.seconds} s of speech) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${modelDir}\n` +
      "talkcart listen, replay and transcribe use it from now on; talkcart enroll --remove goes back to the speaker-independent model.");
  } finally {
    check.close();
  }
}

/**
 * Reads the sentences still missing a recording from the microphone; Ctrl-C stops with what was
 * saved kept. Resolves to the recordings it checked and saved (their file names).
 */
async function recordLive(dir: string, locale: string, check: ReadingCheck, say: (line: string) => void, device?: string): Promise<Set<string>> {
  const mic = await probeMicrophone({ device });
  if (!mic.ok) {
    throw new ConfigError(`${mic.error.message}. The sentences are in ${dir}: record each NNN.txt as NNN.wav there (or with --from elsewhere), then run talkcart enroll again`);
  }
  say(`Read each sentence aloud as you would speak to talkcart. Recordings go to ${dir}; Ctrl-C stops, and the next run goes on from there.`);
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once("SIGINT", onSigint);
  const saved = new Set<string>();
  // Reading aloud has pauses inside a sentence: wait longer than for a request before it counts as ended.
  const listener = new Listener(microphoneSource({ device }), { trailingSilenceMs: 1000 });
  let endedEarly: boolean;
  try {
    ({ endedEarly } = await recordSentences(dir, {
      locale, listener, check, signal: stop.signal,
      onEvent: (e) => {
        if (e.type === "saved") saved.add(`${e.sentence.name}.wav`);
        say(describe(e));
      },
    }));
  } finally {
    process.off("SIGINT", onSigint);
    await listener.close();
  }
  if (endedEarly) {
    const left = enrollmentSentences(dir, locale).filter((s) => !s.recorded).length;
    const why = stop.signal.aborted ? "stopped" : "the microphone stopped sending audio";
    throw new ConfigError(`${why}: ${left} sentences still to read in ${dir}; run talkcart enroll again to go on`);
  }
  return saved;
}
