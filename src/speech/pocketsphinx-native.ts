import { createRequire } from "node:module";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keepLargeBlocksMapped } from "./malloc-tuning.js";
import { orphanedDirs } from "./orphaned-dirs.js";
import { RecognizerUnavailable } from "./types.js";

/**
 * libpocketsphinx.so.3 (Debian 0.8+5prealpha) and libsphinxbase.so.3 through koffi.
 *
 * Signatures checked against the library (Debian ships no headers): `ps_nbest(ps)`,
 * `ps_seg_iter(ps)` and `ps_nbest_seg(nbest)` take no frame range or score argument in this
 * version (disassembly: they read only %rdi), and `ps_get_hyp(ps, &score)` has no utterance id.
 */

type Ptr = unknown; // an opaque native pointer (koffi external), never dereferenced in JS
type Fn<A extends unknown[], R> = ((...args: A) => R) & { async: (...args: [...A, (err: unknown, res: R) => void]) => void };

export interface PsLib {
  cmd_ln_init: (...args: unknown[]) => Ptr;
  cmd_ln_free_r: Fn<[Ptr], number>;
  ps_args: Fn<[], Ptr>;
  ps_init: Fn<[Ptr], Ptr>;
  ps_free: Fn<[Ptr], number>;
  ps_add_word: Fn<[Ptr, string, string, number], number>;
  ps_set_jsgf_string: Fn<[Ptr, string, string], number>;
  ps_set_fsg: Fn<[Ptr, string, Ptr], number>;
  ps_set_lm_file: Fn<[Ptr, string, string], number>;
  ps_set_keyphrase: Fn<[Ptr, string, string], number>;
  ps_set_allphone_file: Fn<[Ptr, string, string | null], number>;
  ps_set_search: Fn<[Ptr, string], number>;
  ps_get_logmath: Fn<[Ptr], Ptr>;
  ps_start_stream: Fn<[Ptr], number>;
  ps_start_utt: Fn<[Ptr], number>;
  ps_process_raw: Fn<[Ptr, Int16Array, number, number, number], number>;
  ps_end_utt: Fn<[Ptr], number>;
  ps_get_hyp: Fn<[Ptr, number[] | null], string | null>;
  ps_get_in_speech: Fn<[Ptr], number>;
  ps_nbest: Fn<[Ptr], Ptr>;
  ps_nbest_next: Fn<[Ptr], Ptr>;
  ps_nbest_hyp: Fn<[Ptr, number[] | null], string | null>;
  ps_nbest_free: Fn<[Ptr], void>;
  ps_seg_iter: Fn<[Ptr], Ptr>;
  ps_seg_next: Fn<[Ptr], Ptr>;
  ps_seg_word: Fn<[Ptr], string | null>;
  ps_seg_frames: Fn<[Ptr, number[], number[]], void>;
  ps_seg_prob: Fn<[Ptr, number[], number[], number[]], number>;
  ps_seg_free: Fn<[Ptr], void>;
  fsg_model_readfile: Fn<[string, Ptr, number], Ptr>;
  fsg_model_free: Fn<[Ptr], number>;
  err_set_logfile: Fn<[string], number>;
}

export const LIBRARY = "libpocketsphinx.so.3";
export const INSTALL_HINT = "apt-get install libpocketsphinx3 pocketsphinx-en-us";

const loaded = new Map<string, PsLib>();

/** Loads the libraries once per process; a missing library is a RecognizerUnavailable saying what to install. */
export function loadPocketsphinx(engine = "pocketsphinx", library = process.env.TALKCART_POCKETSPHINX_LIB ?? LIBRARY): PsLib {
  const cached = loaded.get(library);
  if (cached) return cached;
  let koffi: typeof import("koffi");
  try {
    koffi = createRequire(import.meta.url)("koffi");
  } catch (e) {
    throw new RecognizerUnavailable(engine, `the koffi FFI module does not load (${(e as Error).message.split("\n")[0]}) — run npm install`);
  }
  let ps: ReturnType<typeof koffi.load>;
  let sb: ReturnType<typeof koffi.load>;
  try {
    ps = koffi.load(library);
    sb = koffi.load(library.includes("/") ? library.replace(/libpocketsphinx\.so(\.\d+)?$/, "libsphinxbase.so.3") : "libsphinxbase.so.3");
  } catch (e) {
    throw new RecognizerUnavailable(engine, `${library} not found (${(e as Error).message.split("\n")[0]}) — ${INSTALL_HINT}`);
  }
  const f = (lib: typeof ps, decl: string) => lib.func(decl) as never;
  const api: PsLib = {
    cmd_ln_init: f(sb, "void *cmd_ln_init(void *inout, void *defn, int strict, ...)"),
    cmd_ln_free_r: f(sb, "int cmd_ln_free_r(void *cmdln)"),
    ps_args: f(ps, "void *ps_args()"),
    ps_init: f(ps, "void *ps_init(void *config)"),
    ps_free: f(ps, "int ps_free(void *ps)"),
    ps_add_word: f(ps, "int ps_add_word(void *ps, const char *word, const char *phones, int update)"),
    ps_set_jsgf_string: f(ps, "int ps_set_jsgf_string(void *ps, const char *name, const char *jsgf)"),
    ps_set_fsg: f(ps, "int ps_set_fsg(void *ps, const char *name, void *fsg)"),
    ps_set_lm_file: f(ps, "int ps_set_lm_file(void *ps, const char *name, const char *path)"),
    ps_set_keyphrase: f(ps, "int ps_set_keyphrase(void *ps, const char *name, const char *keyphrase)"),
    ps_set_allphone_file: f(ps, "int ps_set_allphone_file(void *ps, const char *name, const char *path)"),
    ps_set_search: f(ps, "int ps_set_search(void *ps, const char *name)"),
    ps_get_logmath: f(ps, "void *ps_get_logmath(void *ps)"),
    ps_start_stream: f(ps, "int ps_start_stream(void *ps)"),
    ps_start_utt: f(ps, "int ps_start_utt(void *ps)"),
    ps_process_raw: f(ps, "int ps_process_raw(void *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)"),
    ps_end_utt: f(ps, "int ps_end_utt(void *ps)"),
    ps_get_hyp: f(ps, "const char *ps_get_hyp(void *ps, _Out_ int32_t *score)"),
    ps_get_in_speech: f(ps, "uint8_t ps_get_in_speech(void *ps)"),
    ps_nbest: f(ps, "void *ps_nbest(void *ps)"),
    ps_nbest_next: f(ps, "void *ps_nbest_next(void *nbest)"),
    ps_nbest_hyp: f(ps, "const char *ps_nbest_hyp(void *nbest, _Out_ int32_t *score)"),
    ps_nbest_free: f(ps, "void ps_nbest_free(void *nbest)"),
    ps_seg_iter: f(ps, "void *ps_seg_iter(void *ps)"),
    ps_seg_next: f(ps, "void *ps_seg_next(void *seg)"),
    ps_seg_word: f(ps, "const char *ps_seg_word(void *seg)"),
    ps_seg_frames: f(ps, "void ps_seg_frames(void *seg, _Out_ int *sf, _Out_ int *ef)"),
    ps_seg_prob: f(ps, "int32_t ps_seg_prob(void *seg, _Out_ int32_t *ascr, _Out_ int32_t *lscr, _Out_ int32_t *lback)"),
    ps_seg_free: f(ps, "void ps_seg_free(void *seg)"),
    fsg_model_readfile: f(sb, "void *fsg_model_readfile(const char *file, void *lmath, float lw)"),
    fsg_model_free: f(sb, "int fsg_model_free(void *fsg)"),
    err_set_logfile: f(sb, "int err_set_logfile(const char *path)"),
  };
  loaded.set(library, api);
  keepLargeBlocksMapped();
  return api;
}

/** Promise form of a koffi async call. */
export function call<A extends unknown[], R>(fn: Fn<A, R>, ...args: A): Promise<R> {
  return new Promise((resolve, reject) => fn.async(...args, (err: unknown, res: R) => (err ? reject(err) : resolve(res))));
}

/**
 * Where sphinxbase logs go. Logging is process-wide in sphinxbase; every decoder logs to this one
 * file so that a failure can be explained with pocketsphinx's own words (`logSince`).
 */
let logDir: string | undefined;
const LOG_DIR_PREFIX = "talkcart-pocketsphinx-";
export function logFile(): string {
  if (!logDir) {
    removeOrphanedLogDirs();
    logDir = mkdtempSync(join(tmpdir(), `${LOG_DIR_PREFIX}${process.pid}-`));
    process.once("exit", () => rmSync(logDir!, { recursive: true, force: true }));
  }
  return join(logDir, "pocketsphinx.log");
}

/** Removes the log directories of processes that are gone (see orphanedDirs); a sweep that fails costs nothing but the sweep. */
export function removeOrphanedLogDirs(dir = tmpdir()): void {
  for (const path of orphanedDirs(dir, LOG_DIR_PREFIX)) rmSync(path, { recursive: true, force: true });
}

export function logSize(): number {
  const path = logFile();
  return existsSync(path) ? statSync(path).size : 0;
}

/** ERROR/FATAL lines pocketsphinx wrote since `offset`, joined into one line. */
export function logSince(offset: number): string {
  const path = logFile();
  // sphinxbase writes through a buffered FILE*; reopening the log closes (and so flushes) the old one.
  for (const lib of loaded.values()) {
    lib.err_set_logfile(path);
    break;
  }
  if (!existsSync(path)) return "";
  const text = readFileSync(path).subarray(offset).toString("utf8");
  const errors = text.split("\n").filter((l) => /^(ERROR|FATAL|WARN)/.test(l)).map((l) => l.replace(/^\w+: "[^"]*", line \d+: /, "").trim());
  return [...new Set(errors)].slice(-4).join("; ");
}

/**
 * A scratch file for what sphinxbase reads from files only (dictionaries, FSGs, language models):
 * written, handed to `use`, and removed once `use` returns or its promise settles. The decoder keeps
 * what it read, and a process that never reaches its exit handler (a signal, a killed test worker)
 * leaves no grammar behind in /tmp.
 */
let scratchFiles = 0;
export function withScratchFile<T>(name: string, text: string, use: (path: string) => T): T {
  logFile();
  // The directory is this process's own; the number keeps two loaders (two recognizers) from
  // reading, or removing, each other's file.
  const path = join(logDir!, `${++scratchFiles}-${name}`);
  writeFileSync(path, text);
  const remove = () => rmSync(path, { force: true });
  let result: T;
  try {
    result = use(path);
  } catch (e) {
    remove();
    throw e;
  }
  if (result instanceof Promise) return result.finally(remove) as T;
  remove();
  return result;
}

/** Config flags as koffi variadic arguments, NULL-terminated. */
export function configArgs(flags: Record<string, string>): unknown[] {
  const out: unknown[] = [];
  for (const [k, v] of Object.entries(flags)) out.push("str", k, "str", v);
  out.push("str", null);
  return out;
}

export interface Decoder {
  ps: Ptr;
  config: Ptr;
}

/** cmd_ln_init + ps_init, with a missing model or a refused configuration said in one line. */
export function createDecoder(lib: PsLib, engine: string, flags: Record<string, string>): Decoder {
  const hmm = flags["-hmm"];
  if (hmm && !existsSync(join(hmm, "mdef"))) {
    throw new RecognizerUnavailable(engine, `acoustic model not found in ${hmm} (expected mdef, means, variances, ...) — ${INSTALL_HINT}, or set TALKCART_POCKETSPHINX_MODEL to the model directory`);
  }
  const dict = flags["-dict"];
  if (dict && !existsSync(dict)) {
    throw new RecognizerUnavailable(engine, `pronouncing dictionary not found: ${dict} — ${INSTALL_HINT}, or set TALKCART_POCKETSPHINX_DICT`);
  }
  const offset = logSize();
  lib.err_set_logfile(logFile());
  const config = lib.cmd_ln_init(null, lib.ps_args(), 1, ...configArgs({ ...flags, "-logfn": logFile() }));
  if (!config) throw new RecognizerUnavailable(engine, `pocketsphinx refused the configuration: ${logSince(offset) || JSON.stringify(flags)}`);
  const ps = lib.ps_init(config);
  if (!ps) {
    lib.cmd_ln_free_r(config);
    throw new RecognizerUnavailable(engine, `pocketsphinx could not start: ${logSince(offset) || "ps_init failed"}`);
  }
  return { ps, config };
}

export function freeDecoder(lib: PsLib, d: Decoder) {
  lib.ps_free(d.ps);
  lib.cmd_ln_free_r(d.config);
}
