import { readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { readConversation } from "../fixtures/conversations.js";
import { loadIntents, openAssistant, openShop, type Assistant } from "../assistant.js";
import { ConfigError, type Config } from "../config.js";
import { arraySource, pcmStreamSource, wavFileSource } from "../audio/sources.js";
import { ENDPOINTER_DEFAULTS, type EndpointerOptions } from "../audio/endpointer.js";
import { AudioError, type AudioSource, type Pcm } from "../audio/types.js";
import { redactPin } from "../dialogue/redact.js";
import { IntentMatcher } from "../nlu/matcher.js";
import type { Grammar } from "../nlu/grammar.js";
import { chooseHypothesis } from "../nlu/choose-hypothesis.js";
import { catalogPhrasesOf } from "../speech/catalog-phrases.js";
import { createRecognizer, domainFor, engineNamed, ENGINES, firstAvailableRecognizer, NoSpeechEngine, withOfflineStandIn, type EngineName } from "../speech/engines.js";
import { RecognizerUnavailable, type Hypothesis, type Recognizer } from "../speech/types.js";
import { denoised } from "../audio/denoiser.js";
import { StreamingTurns } from "../pipeline/streaming-turns.js";
import { createWakeWordSpotter, type WakeWordSpotter } from "../speech/wake-word.js";
import { EspeakSynthesizer } from "../voice/espeak.js";
import { chosenVoice, openSynthesizer, voiceNamed, VOICES, type ClosableSynthesizer } from "../voice/synthesizers.js";
import { playPcm } from "../voice/playback.js";
import { microphoneSource, probeMicrophone } from "../audio/microphone.js";
import { enrolledModel } from "../speech/speaker-adaptation.js";
import { runVoiceLoop, type Trigger, type VoiceLoopOptions } from "../pipeline/voice-loop.js";
import { answer } from "../pipeline/answer.js";
import { STAND_IN_MS } from "../speech/fallback.js";
import type { Session } from "../dialogue/session.js";
import type { SqlShop } from "../shop/sql-shop.js";
import type { Locale } from "../shop/types.js";

/** The catalog's words and names for a recognizer's grammar or phrase list. */
export async function catalogPhrases(shop: SqlShop, locale: Locale): Promise<string[]> {
  return catalogPhrasesOf({ categories: shop.categories(), products: await shop.allProducts() }, locale);
}

/**
 * The engine asked for (or the first available). In a conversation (listen, replay) a cloud engine
 * gets an offline one to stand in when it fails; `transcribe` shows one engine's readings, so it
 * asks for none (`standIn: false`).
 */
export async function openRecognizer(config: Config, shop: SqlShop, engine?: string, { standIn = true } = {}): Promise<Recognizer> {
  const domain = domainFor(loadIntents(config, config.locale), await catalogPhrases(shop, config.locale));
  const settings = { acousticModel: enrolledModel(config.dataDir, config.locale) };
  const { recognizer, skipped } = engine ? { recognizer: await createRecognizer(engine as EngineName, domain, settings), skipped: [] } : await firstAvailableRecognizer(domain, settings);
  if (!recognizer) throw new NoSpeechEngine(skipped);
  if (!standIn) return recognizer;
  return withOfflineStandIn(recognizer, domain, settings, {
    onFallback: (error, backup) => console.error(`(${error.message}; ${backup.name} listens instead for the next ${STAND_IN_MS / 60_000} minutes)`),
    onNoBackup: (e) => console.error(`(no offline engine can stand in: ${e instanceof NoSpeechEngine ? e.briefReasons : e.message})`),
  });
}

/** The speaker-adapted model the recognizer was opened with (pocketsphinx after `talkcart enroll`). */
const adaptedModel = (config: Config, recognizer: Recognizer) => (recognizer.name === "pocketsphinx" ? enrolledModel(config.dataDir, config.locale) ?? null : null);

/**
 * For commands that cannot go on without an engine (transcribe, replay): a missing or unknown one
 * is one line, not a stack trace; `release` closes what the command had opened.
 */
async function requireRecognizer(config: Config, shop: SqlShop, engine: string | undefined, release: () => Promise<void>, options: { standIn?: boolean } = {}): Promise<Recognizer> {
  try {
    return await openRecognizer(config, shop, engine, options);
  } catch (e) {
    await release();
    if (e instanceof RecognizerUnavailable) throw new ConfigError(e.message);
    throw e;
  }
}

/** One spoken turn in a replay: what was heard, understood and answered, and where the time went. */
export interface ReplayTurn {
  source: string;
  transcript: string;
  alternatives: { text: string; confidence: number }[];
  intent: string | null;
  slots: Record<string, unknown>;
  reply: string;
  stateAfter: string;
  timings: { endpointMs: number; recognizeMs: number; replyMs: number; totalMs: number };
  audioSeconds: number;
  rtf: number;
  expected?: string;
  ok?: boolean;
  /** The recognizer failed on this turn (the reply is the apology), or another engine stood in for it. */
  speechError?: string;
  /** The engine that recognized the turn: another than the one asked for while an offline one stands in for it. */
  engine: string;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Runs every utterance of a source through recognition and the dialogue, faster than real time. */
export async function replaySource(source: AudioSource, recognizer: Recognizer, session: Session, trailingSilenceMs: number = ENDPOINTER_DEFAULTS.trailingSilenceMs): Promise<ReplayTurn[]> {
  const turns = new StreamingTurns(source, recognizer, { trailingSilenceMs });
  const out: ReplayTurn[] = [];
  try {
    for (;;) {
      const heard = await turns.next({ context: session.expecting });
      if (heard.type === "end") break;
      if (heard.type === "no-input") continue;
      const t0 = performance.now();
      const trace = await answer(session, heard);
      const replyMs = performance.now() - t0;
      const audioSeconds = heard.pcm.length / 16_000;
      const recognizeMs = heard.type === "failed" ? 0 : heard.recognizeMs;
      const speechError = heard.type === "failed" ? heard.error.message : heard.recoveredFrom?.message;
      out.push({
        source: source.description,
        transcript: trace.input,
        alternatives: heard.type === "failed" ? [] : heard.alternatives.map((a) => ({ text: session.redactReading(a.text, trace), confidence: Math.round(a.confidence * 1000) / 1000 })),
        intent: trace.intent,
        slots: trace.slots,
        reply: trace.reply,
        stateAfter: trace.stateAfter,
        // The VAD decides the speech ended after `trailingSilenceMs` of silence; from then on it is recognition and reply.
        timings: { endpointMs: trailingSilenceMs, recognizeMs: round(recognizeMs), replyMs: round(replyMs), totalMs: round(recognizeMs + replyMs) },
        audioSeconds: round(audioSeconds),
        rtf: audioSeconds ? Math.round((recognizeMs / 1000 / audioSeconds) * 1000) / 1000 : 0,
        engine: recognizer.name,
        ...(speechError ? { speechError } : {}),
      });
      if (session.ended) break;
    }
  } finally {
    await turns.close();
  }
  return out;
}

/** The source as the person chose to be heard: through the noise suppressor or as it is. */
export function filtered(source: AudioSource, o: { denoise?: boolean }): AudioSource {
  return o.denoise ? denoised(source) : source;
}

const silence = (ms: number) => new Int16Array((16 * ms) | 0);
function padded(pcm: Pcm): Pcm {
  const lead = silence(300);
  const tail = silence(900);
  const out = new Int16Array(lead.length + pcm.length + tail.length);
  out.set(pcm, lead.length);
  return out;
}

/** A conversation test (tests/conversations/*.yaml) spoken with espeak-ng and replayed turn by turn. */
export async function replayConversation(file: string, recognizer: Recognizer, session: Session, locale: Locale, filter = (source: AudioSource) => source, trailingSilenceMs?: number): Promise<ReplayTurn[]> {
  const conv = readConversation(resolve(file));
  const voice = new EspeakSynthesizer();
  const results: ReplayTurn[] = [];
  for (const turn of conv.turns) {
    if (!turn.you.trim()) {
      const t = await session.noInput();
      results.push({ source: basename(file), transcript: "", alternatives: [], intent: null, slots: {}, reply: t.reply, stateAfter: t.stateAfter, timings: { endpointMs: 0, recognizeMs: 0, replyMs: t.ms, totalMs: t.ms }, audioSeconds: 0, rtf: 0, engine: recognizer.name, expected: turn.reply, ok: new RegExp(turn.reply, "i").test(t.reply) });
      continue;
    }
    const pcm = padded(await voice.synthesize(turn.you, locale));
    const [heard] = await replaySource(filter(arraySource(pcm, { description: `"${turn.you}"` })), recognizer, session, trailingSilenceMs);
    if (!heard) throw new AudioError(`nothing was heard in the spoken turn "${turn.you}"`);
    results.push({ ...heard, expected: turn.reply, ok: new RegExp(turn.reply, "i").test(heard.reply) });
    if (session.ended) break;
  }
  return results;
}

function wavFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.toLowerCase().endsWith(".wav")).sort().map((f) => join(dir, f));
}

/** --trailing-silence: how long a pause ends a request; a slow speaker needs more, a quick kiosk less. */
function trailingSilence(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 200 || ms > 5000) throw new ConfigError(`--trailing-silence ${value}: give milliseconds from 200 to 5000 (default ${ENDPOINTER_DEFAULTS.trailingSilenceMs})`);
  return ms;
}

interface ListenOptions { stt?: string; tts?: string; device?: string; wake?: string; ptt?: boolean; speak?: boolean; bargeIn?: boolean; denoise?: boolean; meter?: boolean; stdin?: boolean; trailingSilence?: string }

/**
 * listen's options, checked before anything starts: a misspelt engine or voice is a mistake to fix,
 * not a reason for typed mode (an engine that cannot start is). Returns the endpointer settings.
 */
function checkListenOptions(o: ListenOptions): EndpointerOptions {
  const named = o.stt ?? process.env.TALKCART_STT;
  if (named) engineNamed(named);
  voiceNamed(chosenVoice(o.tts));
  // With --stdin the audio comes down a pipe (`arecord ... | talkcart listen --stdin`): no device to probe, and no keyboard.
  if (o.stdin && o.ptt) throw new ConfigError("--ptt needs Enter on stdin, which --stdin gives to the audio: use --wake WORD or neither");
  return { trailingSilenceMs: trailingSilence(o.trailingSilence) };
}

/** Someone at a keyboard: stdin is a terminal, not audio (--stdin) and not a device started by systemd. */
const atKeyboard = (o: ListenOptions) => !o.stdin && process.stdin.isTTY;

/** The wake word's spotter, or null for push-to-talk when it cannot be spotted and a keyboard is there. */
function openWakeWord(o: ListenOptions): WakeWordSpotter | null {
  if (!o.wake) return null;
  try {
    return createWakeWordSpotter({ word: o.wake });
  } catch (e) {
    if (!(e instanceof RecognizerUnavailable)) throw e;
    // Without a keyboard (a device started by systemd) push-to-talk would wait for ever: fail, and be restarted.
    if (!atKeyboard(o)) throw new ConfigError(`no wake word: ${e.message}; and no keyboard for push-to-talk (stdin is no terminal)`);
    console.log(`(no wake word: ${e.message}; using push-to-talk)`);
    return null;
  }
}

/** Push-to-talk: each call resolves when Enter is pressed; once stdin has ended no key can come, so listening stops. */
function keyPresses(stop: AbortController): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    // Paused between presses: what is typed meanwhile waits in the buffer (for typed mode, if the microphone dies).
    const done = () => { process.stdin.off("data", done).off("end", ended).pause(); resolve(); };
    const ended = () => { console.log("\n(no more key presses: stdin ended)"); stop.abort(); done(); };
    if (process.stdin.readableEnded) return ended();
    process.stderr.write("\n[press Enter and speak]");
    process.stdin.once("data", done).once("end", ended).resume();
  });
}

/**
 * The level meter, the partial transcript and "[listening]": they redraw a line for every chunk of
 * audio, so they are for a terminal, not for a log (journald under systemd). Partials are redacted as
 * the turn log is: the screen must not show a PIN as it is spoken.
 */
function terminalHooks(live: boolean, grammar: Grammar): VoiceLoopOptions["hooks"] {
  if (!live) return {};
  const ui = process.stderr;
  const meter = (level: number) => "#".repeat(Math.min(20, Math.round(Math.sqrt(level) * 40))).padEnd(20, ".");
  return {
    onListening: () => ui.write("\n[listening] "),
    onLevel: (level) => ui.write(`\r[${meter(level)}] `),
    onPartial: (text, secret) => ui.write(`\r[${"~".repeat(20)}] ${redactPin(text, grammar, secret)}   `),
  };
}

const INSTALL_AN_ENGINE = "install pocketsphinx (`sudo apt-get install pocketsphinx pocketsphinx-en-us`), add a Vosk model (`talkcart models`) or set AZURE_SPEECH_KEY and AZURE_SPEECH_REGION; `talkcart doctor` shows what is missing";

export function registerVoiceCommands(program: Command, helpers: {
  config: (cmd: Command) => Config;
  out: (cmd: Command, json: unknown, text: () => string) => void;
  chat: (cmd: Command, why?: string, fix?: string) => Promise<void>;
}) {
  const { config, out } = helpers;
  const sttOption = (c: Command) => c
    .option("--stt <engine>", `speech engine: ${ENGINES.join(", ")} (default: TALKCART_STT, else the first available)`)
    .option("--denoise", "suppress background noise (RNNoise) before listening: better in a noisy room, but more unclear speech taken for a request");

  /** Can this machine listen? A capture device that works, checked in a few milliseconds. */
  async function voiceReadiness(cfg: Config, device?: string): Promise<{ ok: true } | { ok: false; why: string }> {
    const mic = await probeMicrophone({ device });
    if (!mic.ok) return { ok: false, why: mic.error.message };
    void cfg;
    return { ok: true };
  }

  async function listen(cmd: Command, o: ListenOptions) {
    const cfg = config(cmd);
    const endpointer = checkListenOptions(o);
    const ready = o.stdin ? { ok: true as const } : await voiceReadiness(cfg, o.device);
    if (!ready.ok) return helpers.chat(cmd, ready.why);
    const assistant = await openAssistant(cfg);
    let recognizer: Recognizer;
    try {
      recognizer = await openRecognizer(cfg, assistant.shop, o.stt);
    } catch (e) {
      await assistant.close();
      if (e instanceof NoSpeechEngine) return helpers.chat(cmd, e.brief, INSTALL_AN_ENGINE);
      if (e instanceof RecognizerUnavailable) return helpers.chat(cmd, e.message, INSTALL_AN_ENGINE);
      throw e;
    }
    let session = assistant.session();
    let spotter: WakeWordSpotter | null = null;
    let voice: ClosableSynthesizer | undefined;
    let captureLost: string | null = null;
    // Everything from here on is closed by the finally below, whichever way listening ends.
    try {
      const ui = process.stderr;
      spotter = openWakeWord(o);
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      const wake = spotter;
      const trigger: Trigger = wake
        ? { kind: "wake", spot: (chunk) => wake.write(chunk).length > 0, onWake: () => ui.write(`\n[${wake.word}]`) }
        : atKeyboard(o) || (!o.stdin && (o.wake || o.ptt)) ? { kind: "ptt", pressed: keyPresses(stop) } : { kind: "always" };
      const voiceFailed = (e: Error) => console.error(`(${e.message}; espeak-ng speaks for the next ${STAND_IN_MS / 60_000} minutes)`);
      if (o.speak !== false) voice = await openSynthesizer(chosenVoice(o.tts), voiceFailed);
      const how = wake ? ` Say "${wake.word}" before a request.` : "";
      if (wake && cfg.locale !== "en") console.log(`(the wake word is spotted with the English acoustic model, which takes ${cfg.locale} speech for it more often than English; --ptt avoids that)`);
      const adapted = adaptedModel(cfg, recognizer) ? ", adapted to your voice" : "";
      console.log(`Listening with ${recognizer.name} (${cfg.locale}${adapted}). Shopping as '${cfg.shopperId}'.${how} Ctrl-C quits.`);
      try {
        await runVoiceLoop({
          source: filtered(o.stdin ? pcmStreamSource(process.stdin, { realtime: true, description: "stdin (raw 16 kHz mono s16le)" }) : microphoneSource({ device: o.device }), o),
          recognizer, session, trigger, endpointer, signal: stop.signal, bargeIn: o.bargeIn !== false,
          // "bye" ends the conversation, not the program: the next wake word or Enter starts a new one.
          nextSession: () => {
            session.stop();
            ui.write("\n(a new conversation)");
            return (session = assistant.session());
          },
          synthesizer: voice,
          play: o.speak === false ? undefined : (pcm) => playPcm(pcm, { device: o.device }),
          hooks: {
            ...terminalHooks(o.meter ?? ui.isTTY, assistant.matcher().grammar),
            onTurn: (t) => console.log(`\nyou> ${t.input || "(silence)"}\ntalkcart> ${t.reply}`),
            onSpeakError: (message) => console.error(`(not spoken: ${message})`),
            onRecognizerError: (message) => console.error(`(not recognized: ${message})`),
          },
        });
      } catch (e) {
        // The microphone failed mid-session (unplugged, taken by another program): someone at a keyboard
        // carries on typing, with the same cart; a device without one (systemd) exits 1 and is restarted.
        if (!(e instanceof AudioError) || !atKeyboard(o)) throw e;
        captureLost = e.message;
      }
    } finally {
      session.stop();
      await spotter?.close();
      await voice?.close();
      await recognizer.close();
      await assistant.close();
    }
    if (captureLost) return helpers.chat(cmd, captureLost);
  }

  sttOption(program.command("listen").description("talk to talkcart through the microphone"))
    .option("--device <name>", "capture (and playback) device, e.g. plughw:1,0")
    .option("--wake <word>", "a wake word opens each turn (one distinct word, e.g. computer)")
    .option("--ptt", "push-to-talk: press Enter to open each turn")
    .option("--tts <voice>", `reply voice: ${VOICES.join(", ")} (default: TALKCART_TTS, else espeak)`)
    .option("--no-speak", "print replies instead of speaking them")
    .option("--no-barge-in", "do not stop a reply when speech is heard (for a loudspeaker the microphone hears)")
    .option("--stdin", "hear raw 16 kHz mono s16le audio on stdin instead of the microphone (e.g. arecord -f S16_LE -r 16000 -c 1 | talkcart listen --stdin)")
    .option("--trailing-silence <ms>", `silence that ends a request (default ${ENDPOINTER_DEFAULTS.trailingSilenceMs})`)
    .option("--meter", "show the input level and the partial transcript even when stderr is no terminal (default: only on one)")
    .action(async (o, cmd: Command) => listen(cmd, o));

  sttOption(program.command("transcribe").argument("<file.wav>").description("n-best transcripts of a recording and how they parse (no dialogue)"))
    .action(async (file: string, o: { stt?: string; denoise?: boolean }, cmd: Command) => {
      const cfg = config(cmd);
      const shop = await openShop(cfg);
      const recognizer = await requireRecognizer(cfg, shop, o.stt, () => shop.close(), { standIn: false });
      try {
        const matcher = new IntentMatcher(loadIntents(cfg, cfg.locale), shop.index.scorer(cfg.locale));
        const turns = new StreamingTurns(filtered(wavFileSource(file), o), recognizer);
        const results: { startMs: number; endMs: number; recognizeMs: number; alternatives: (Hypothesis & { parse: { intent: string; slots: Record<string, unknown> } | null })[]; chosen: string | null; intent: string | null; slots: Record<string, unknown> }[] = [];
        for (let heard = await turns.next(); heard.type !== "end"; heard = await turns.next()) {
          if (heard.type === "no-input") continue;
          if (heard.type === "failed") throw heard.error;
          const chosen = chooseHypothesis(matcher, heard.alternatives);
          results.push({
            startMs: heard.startMs, endMs: heard.endMs, recognizeMs: round(heard.recognizeMs),
            alternatives: heard.alternatives.map((a) => {
              const best = matcher.parse(a.text).best;
              return { ...a, parse: best && { intent: best.intent, slots: best.slots } };
            }),
            chosen: chosen?.reading.text ?? null, intent: chosen?.parse?.intent ?? null, slots: chosen?.parse?.slots ?? {},
          });
        }
        await turns.close();
        out(cmd, { file, engine: recognizer.name, adaptedModel: adaptedModel(cfg, recognizer), utterances: results }, () => results.map((r) =>
          `${(r.startMs / 1000).toFixed(2)}-${(r.endMs / 1000).toFixed(2)} s  ${r.chosen ?? "(nothing recognized)"}\n  intent ${r.intent ?? "-"} ${JSON.stringify(r.slots)}\n${r.alternatives.map((a) => `  ${a.confidence.toFixed(3)}  ${a.text}`).join("\n")}`).join("\n") || "no speech found");
      } finally {
        await recognizer.close();
        await shop.close();
      }
    });

  sttOption(program.command("replay").argument("<path>", "a WAV file, a folder of WAV files, a conversation .yaml, or - for raw 16 kHz mono s16le on stdin").description("run recorded or spoken audio through the whole pipeline, faster than real time"))
    .option("--trailing-silence <ms>", `silence that ends a request (default ${ENDPOINTER_DEFAULTS.trailingSilenceMs})`)
    .action(async (path: string, o: { stt?: string; denoise?: boolean; trailingSilence?: string }, cmd: Command) => {
      const cfg = config(cmd);
      const silenceMs = trailingSilence(o.trailingSilence);
      const assistant: Assistant = await openAssistant(cfg);
      const recognizer = await requireRecognizer(cfg, assistant.shop, o.stt, () => assistant.close());
      const engine = recognizer.name; // the engine asked for; each turn names the one that heard it
      const session = assistant.session();
      let turns: ReplayTurn[] = [];
      try {
        if (/\.ya?ml$/i.test(path)) turns = await replayConversation(path, recognizer, session, cfg.locale, (source) => filtered(source, o), silenceMs);
        else if (path === "-") turns = await replaySource(filtered(pcmStreamSource(process.stdin, { description: "stdin" }), o), recognizer, session, silenceMs);
        else {
          const files = statSync(path).isDirectory() ? wavFilesIn(path) : [path];
          if (files.length === 0) throw new AudioError(`${path}: no .wav files in this folder`);
          for (const f of files) turns.push(...(await replaySource(filtered(wavFileSource(f), o), recognizer, session, silenceMs)));
        }
      } finally {
        session.stop();
        await recognizer.close();
        await assistant.close();
      }
      out(cmd, { engine, turns }, () => turns.map((t) => [
        `${t.ok === undefined ? "" : t.ok ? "PASS " : "FAIL "}heard: ${t.transcript || "(nothing)"}   [${t.source}]`,
        `  intent ${t.intent ?? "-"} ${JSON.stringify(t.slots)}`,
        `  reply: ${t.reply}${t.ok === false ? `\n  expected: /${t.expected}/` : ""}`,
        ...(t.speechError ? [`  speech engine: ${t.speechError}`] : []),
        `  end of speech -> transcript ${t.timings.recognizeMs} ms -> reply ${t.timings.totalMs} ms (RTF ${t.rtf}, ${t.audioSeconds} s audio)`,
      ].join("\n")).join("\n") || "no speech found");
      if (turns.some((t) => t.ok === false)) process.exitCode = 1;
    });

  return { listen, voiceReadiness };
}
