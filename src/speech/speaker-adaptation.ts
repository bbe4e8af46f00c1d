import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Pcm } from "../audio/types.js";
import { encodeWav } from "../audio/wav.js";
import { dictionaryOfText } from "./dictionary-text.js";
import { NoiseFloor } from "./noise-floor.js";
import { orphanedDirs } from "./orphaned-dirs.js";
import { readSendump, SendumpError, writeMixtureWeights } from "./sendump.js";
import { which } from "../which.js";

/**
 * Speaker adaptation: MAP re-estimation (SphinxTrain's `bw` + `map_adapt`) of the acoustic model's
 * means, variances, mixture weights and transitions from a few dozen sentences the person read.
 *
 * Why: the speaker-independent en-us model fits some voices badly (an accent, a cheap USB
 * microphone). `npm run bench` measures it on espeak-ng voices ("after enrollment": each reads 30
 * sentences of the grammar that are not test sentences).
 * The result is a complete model directory, used like any other (TALKCART_POCKETSPHINX_MODEL, or
 * found in the data folder: see enrolledModelDir).
 */

export const ADAPTATION_HINT = "install SphinxTrain and sphinx_fe: sudo apt-get install sphinxtrain sphinxbase-utils";

/** A recording of one read sentence. */
export interface Reading {
  /** Where it came from, for messages ("012.wav", "prompt 12"). */
  name: string;
  /** 16 kHz mono. */
  pcm: Pcm;
  /** What was read, in the grammar's words. */
  text: string;
}

export interface AdaptationOptions {
  /** The speaker-independent model directory (mdef, means, variances, sendump or mixture_weights, ...). */
  baseModel: string;
  /** Pronouncing dictionary text covering every word of the readings (the recognizer's). */
  dictionary: string;
  readings: Reading[];
  /** The adapted model directory to write; an existing one is replaced only once the new one is complete. */
  out: string;
  /** SphinxTrain's programs (bw, map_adapt, mk_s2sendump); default TALKCART_SPHINXTRAIN_DIR or Debian's. */
  sphinxtrainDir?: string;
}

export interface EnrollmentInfo {
  baseModel: string;
  readings: number;
  seconds: number;
  adaptedAt: string;
}

/** What the adapted model directory says about itself. */
export const ENROLLMENT_FILE = "talkcart-enrollment.json";
/** Fewer readings than this are too little speech to re-estimate the model from. */
export const MIN_READINGS = 10;

export class AdaptationError extends Error {}

/** The adapted model for a locale in a data folder (where `talkcart enroll` puts it). */
export function enrolledModelDir(dataDir: string, locale: string): string {
  return join(dataDir, `acoustic-model-${locale}`);
}

/**
 * The speaker's adapted model, when `talkcart enroll` made one for this locale and no other model
 * was chosen (TALKCART_POCKETSPHINX_MODEL naming another model wins).
 */
export function enrolledModel(dataDir: string, locale: string, env = process.env): string | undefined {
  const dir = enrolledModelDir(dataDir, locale);
  const info = enrollmentInfo(dir);
  const chosen = env.TALKCART_POCKETSPHINX_MODEL;
  return info && (!chosen || chosen === info.baseModel) ? dir : undefined;
}

/** What an adapted model directory says about itself; null when it is not one (or the file is damaged). */
export function enrollmentInfo(modelDir: string): EnrollmentInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(modelDir, ENROLLMENT_FILE), "utf8")) as Partial<EnrollmentInfo>;
    const valid = typeof info.baseModel === "string" && typeof info.readings === "number" && typeof info.seconds === "number" && typeof info.adaptedAt === "string";
    return valid ? (info as EnrollmentInfo) : null;
  } catch {
    return null;
  }
}

/** The programs adaptation runs; missing ones are one error naming them and what to install. */
export function adaptationTools(dir = process.env.TALKCART_SPHINXTRAIN_DIR || "/usr/lib/sphinxtrain") {
  const tools = {
    sphinxFe: "sphinx_fe",
    mdefConvert: "pocketsphinx_mdef_convert",
    bw: join(dir, "bw"),
    mapAdapt: join(dir, "map_adapt"),
    sendump: join(dir, "mk_s2sendump"),
  };
  const missing = Object.values(tools).filter((t) => (t.includes("/") ? !existsSync(t) : !which(t)));
  return { tools, missing };
}

/** Runs one program; a failure names it with the last error line of its log. */
function run(program: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const keep = (chunk: Buffer) => { log = (log + chunk.toString()).slice(-20_000); };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (e) => reject(new AdaptationError(`${basename(program)} did not start (${e.message}): ${ADAPTATION_HINT}`)));
    child.on("close", (code) => {
      if (code === 0) return resolve();
      const why = log.split("\n").filter((l) => /ERROR|FATAL/.test(l)).pop() ?? log.trim().split("\n").pop() ?? "";
      reject(new AdaptationError(`${basename(program)} failed (exit ${code}): ${why.trim()}`));
    });
  });
}

/** `-key value` lines of a model's feat.params. */
function featParams(model: string): Map<string, string> {
  const path = join(model, "feat.params");
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  return new Map(text.split("\n").map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 2 && p[0].startsWith("-")).map(([k, v]) => [k, v]));
}

/** The words of each text that `dictionary` has no pronunciation for, by name (only names with some). */
export function unpronounceable(texts: { name: string; text: string }[], dictionary: string): string[] {
  const dict = dictionaryOfText(dictionary);
  return texts.flatMap(({ name, text }) => {
    const unknown = text.split(/\s+/).filter((w) => w && !dict.has(w));
    return unknown.length ? [`${name}: no pronunciation for ${unknown.map((w) => `"${w}"`).join(", ")}`] : [];
  });
}

/**
 * Adapts `baseModel` to the readings and writes a complete model to `out`. Nothing at `out`
 * changes unless every step succeeded; the scratch folder is removed unless it is where the old
 * model had to stay.
 */
export async function adaptModel(options: AdaptationOptions): Promise<EnrollmentInfo> {
  const { baseModel, readings, out } = options;
  if (readings.length < MIN_READINGS) throw new AdaptationError(`${readings.length} readings: adaptation needs at least ${MIN_READINGS}`);
  if (!existsSync(join(baseModel, "mdef"))) throw new AdaptationError(`no acoustic model in ${baseModel} (expected mdef, means, variances, ...)`);
  const { tools, missing } = adaptationTools(options.sphinxtrainDir);
  if (missing.length) throw new AdaptationError(`speaker adaptation needs ${missing.map((t) => basename(t)).join(", ")}: ${ADAPTATION_HINT}`);
  // bw would otherwise stop at the first unknown word.
  const unknown = unpronounceable(readings, options.dictionary);
  if (unknown.length) throw new AdaptationError(`${unknown.join("; ")}: read sentences the grammar knows (talkcart enroll writes them)`);

  mkdirSync(dirname(out), { recursive: true });
  recoverInterrupted(out);
  const work = mkdtempSync(join(dirname(out), `${SCRATCH_PREFIX}${process.pid}-`));
  const model = join(work, "model");
  let keepScratch = false;
  try {
    mkdirSync(model);
    // The decoder hears audio with a noise floor added (noise-floor.ts): adapt to what it hears.
    const floor = new NoiseFloor();
    const ids = readings.map((_, i) => `r${String(i + 1).padStart(3, "0")}`);
    readings.forEach((r, i) => writeFileSync(join(work, `${ids[i]}.wav`), encodeWav(floor.apply(Int16Array.from(r.pcm)))));
    writeFileSync(join(work, "fileids"), ids.join("\n") + "\n");
    writeFileSync(join(work, "transcription"), readings.map((r, i) => `<s> ${r.text} </s> (${ids[i]})`).join("\n") + "\n");
    writeFileSync(join(work, "dict"), options.dictionary);

    const feat = featParams(baseModel);
    const kind = feat.get("-model") === "cont" ? ".cont." : ".ptm.";
    const base = (f: string) => join(baseModel, f);
    await run(tools.sphinxFe, ["-argfile", base("feat.params"), "-samprate", "16000", "-c", "fileids", "-di", ".", "-do", ".", "-ei", "wav", "-eo", "mfc", "-mswav", "yes"], work);
    await run(tools.mdefConvert, ["-text", base("mdef"), "mdef.txt"], work);
    // Debian's model has only the quantized sendump; SphinxTrain reads float mixture weights.
    let mixw = base("mixture_weights");
    if (!existsSync(mixw)) writeMixtureWeights((mixw = join(work, "mixture_weights")), readSendump(base("sendump")));
    const featArgs = ["-feat", feat.get("-feat") ?? "1s_c_d_dd", ...(feat.has("-svspec") ? ["-svspec", feat.get("-svspec")!] : []), "-agc", feat.get("-agc") ?? "none", "-cmn", "current"];
    await run(tools.bw, [
      "-hmmdir", baseModel, "-moddeffn", "mdef.txt", "-mixwfn", mixw, "-ts2cbfn", kind, ...featArgs,
      "-dictfn", "dict", "-fdictfn", base("noisedict"), "-ctlfn", "fileids", "-lsnfn", "transcription", "-accumdir", ".",
    ], work);
    await run(tools.mapAdapt, [
      "-moddeffn", "mdef.txt", "-ts2cbfn", kind, "-accumdir", ".",
      "-meanfn", base("means"), "-varfn", base("variances"), "-mixwfn", mixw, "-tmatfn", base("transition_matrices"),
      "-mapmeanfn", join(model, "means"), "-mapvarfn", join(model, "variances"), "-mapmixwfn", "map_mixture_weights", "-maptmatfn", join(model, "transition_matrices"),
    ], work);
    // Back to sendump, as pocketsphinx loads fastest; the floor keeps the base model's weights byte for byte.
    await run(tools.sendump, ["-pocketsphinx", "yes", "-mwfloor", "1e-7", "-moddeffn", "mdef.txt", "-mixwfn", "map_mixture_weights", "-sendumpfn", join(model, "sendump")], work);
    // The rest of the base model as it is (mdef, feat.params, noisedict, ...): its files, not folders.
    for (const f of readdirSync(baseModel)) {
      if (statSync(base(f)).isFile() && !existsSync(join(model, f)) && f !== "mixture_weights") copyFileSync(base(f), join(model, f));
    }
    const info: EnrollmentInfo = {
      baseModel,
      readings: readings.length,
      seconds: Math.round(readings.reduce((s, r) => s + r.pcm.length, 0) / 1600) / 10,
      adaptedAt: new Date().toISOString(),
    };
    writeFileSync(join(model, ENROLLMENT_FILE), JSON.stringify(info, null, 2) + "\n");
    // The old model is moved aside, then the new one into place: if the second rename fails the
    // old one goes back; if putting it back fails too, the scratch folder (holding it) is kept.
    const previous = join(work, PREVIOUS);
    const hadOld = existsSync(out);
    if (hadOld) renameSync(out, previous);
    try {
      renameSync(model, out);
    } catch (e) {
      if (hadOld) {
        try {
          renameSync(previous, out);
        } catch {
          keepScratch = true;
          throw new AdaptationError(`could not put the new model in place (${(e as Error).message}), nor the old one back: it is in ${previous}`);
        }
      }
      throw e;
    }
    return info;
  } catch (e) {
    if (e instanceof AdaptationError || e instanceof SendumpError) throw new AdaptationError(`cannot adapt the model in ${baseModel} to the readings: ${e.message}`);
    throw e;
  } finally {
    if (!keepScratch) rmSync(work, { recursive: true, force: true });
  }
}

const SCRATCH_PREFIX = ".enroll-";
const PREVIOUS = "previous";

/**
 * Cleans up after an adaptation that was killed (Ctrl-C, power cut): its scratch folder holds
 * copies of the person's recordings, and if it died between moving the old model aside and the new
 * one into place, the old model, which goes back where it was. Run before anything looks at `out`.
 */
export function recoverInterrupted(out: string): void {
  for (const scratch of orphanedDirs(dirname(out), SCRATCH_PREFIX)) {
    try {
      const previous = join(scratch, PREVIOUS);
      if (existsSync(previous) && !existsSync(out)) renameSync(previous, out);
      rmSync(scratch, { recursive: true, force: true });
    } catch {
      // left for the next run; nothing here is needed to go on
    }
  }
}
