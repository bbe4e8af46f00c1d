import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, open, rename, rm, mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, normalize, resolve, sep } from "node:path";
import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";
import { PassThrough, Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createInflateRaw } from "node:zlib";

/**
 * Vosk models: where talkcart looks for them, what a usable one looks like on disk, and how to
 * fetch one (what `talkcart models` shows and does).
 *
 * Where a model for a locale comes from, first match wins:
 *   1. `TALKCART_VOSK_MODEL_<LANG>` (`TALKCART_VOSK_MODEL_EN`, `TALKCART_VOSK_MODEL_DE`): that model
 *      directory, for that language only.
 *   2. `TALKCART_VOSK_MODEL`: either one model directory (it has am/final.mdl), used for every
 *      locale unless its Vosk name says another language (vosk-model-small-en-us-0.15 is refused for
 *      de); or a directory holding one model per locale, chosen as in 3.
 *   3. the models directory `$XDG_DATA_HOME/talkcart/models` (default
 *      `~/.local/share/talkcart/models`), where `downloadModel` installs: the subdirectory named
 *      after the locale (`de`, `en-us`) or a Vosk model name in that language
 *      (`vosk-model-small-de-0.15`); grammar-capable (small / lgraph) models are preferred.
 * A model named by a variable that is missing or broken is an error naming that variable (it is
 * never silently replaced by another model); nothing found is an error naming both variables.
 */

export const VOSK_MODEL_ENV = "TALKCART_VOSK_MODEL";

/** How a Vosk model directory must look, for error messages. */
export const VOSK_MODEL_LAYOUT =
  "a Vosk model directory for the locale (unzipped, e.g. vosk-model-small-en-us-0.15/ or vosk-model-small-de-0.15/) holding am/final.mdl, conf/model.conf, " +
  "conf/mfcc.conf, graph/HCLr.fst + graph/Gr.fst + graph/disambig_tid.int (small and lgraph models; " +
  "big models have graph/HCLG.fst instead) and, for models with i-vectors, ivector/final.ie, final.dubm, " +
  "final.mat, global_cmvn.stats, online_cmvn.conf, splice.conf";

/** `TALKCART_VOSK_MODEL_DE` for "de" and "de-AT". */
export function localeModelEnv(locale: string): string {
  const lang = locale.split(/[-_]/)[0].toUpperCase();
  return `${VOSK_MODEL_ENV}_${lang}`;
}

export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
  return join(base, "talkcart", "models");
}

/** `~/.local/share/...` for messages. */
export function displayPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || homedir();
  return home && (path === home || path.startsWith(home + sep)) ? "~" + path.slice(home.length) : path;
}

// ---------------------------------------------------------------------------------------------
// Layout

export interface ModelLayout {
  dir: string;
  /** Every file is where libvosk will look for it (it may still refuse damaged contents). */
  ok: boolean;
  /** What is missing or wrong, one short phrase each ("am/final.mdl missing"). */
  problems: string[];
  /** Vosk's directory layout: 2 = am/ conf/ graph/ (every current model), 1 = flat (old models). */
  version?: 1 | 2;
  /** Runtime grammars (vosk_recognizer_new_grm) need HCLr.fst + Gr.fst; HCLG models ignore them. */
  grammar: boolean;
}

function fileSize(path: string): number | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks the files libvosk reads (src/model.cc: Model::ConfigureV1/V2 and ReadDataFiles) before any
 * libvosk call: a model libvosk cannot load comes back as NULL, and a recognizer created on NULL
 * crashes the process.
 */
export function checkModelLayout(dir: string): ModelLayout {
  const problems: string[] = [];
  let st;
  try {
    st = statSync(dir);
  } catch {
    return { dir, ok: false, problems: ["does not exist"], grammar: false };
  }
  if (!st.isDirectory()) {
    const hint = /\.(zip|tar|tgz|gz)$/i.test(dir) ? " (unzip it first)" : "";
    return { dir, ok: false, problems: [`is a file, not a directory${hint}`], grammar: false };
  }
  const version: 1 | 2 = existsSync(join(dir, "am")) || !existsSync(join(dir, "final.mdl")) ? 2 : 1;
  const p = (rel: string) => (version === 2 ? rel : basename(rel));
  const need = (rel: string) => {
    const size = fileSize(join(dir, p(rel)));
    if (size === undefined) problems.push(`${p(rel)} missing`);
    else if (size === 0) problems.push(`${p(rel)} is empty`);
  };
  need("am/final.mdl");
  if (version === 2 && fileSize(join(dir, "conf/model.conf")) === undefined) problems.push("conf/model.conf missing");
  if (fileSize(join(dir, p("conf/mfcc.conf"))) === undefined && fileSize(join(dir, p("conf/fbank.conf"))) === undefined) {
    problems.push(`${p("conf/mfcc.conf")} missing`);
  }
  const hclg = fileSize(join(dir, p("graph/HCLG.fst")));
  let grammar = false;
  if (hclg === undefined) {
    for (const f of ["graph/HCLr.fst", "graph/Gr.fst", "graph/disambig_tid.int"]) need(f);
    grammar = !problems.some((x) => x.startsWith(p("graph/")));
  } else if (hclg === 0) {
    problems.push(`${p("graph/HCLG.fst")} is empty`);
  }
  if (version === 2 && existsSync(join(dir, "ivector"))) {
    for (const f of ["final.ie", "final.dubm", "final.mat", "global_cmvn.stats", "online_cmvn.conf", "splice.conf"]) {
      need(`ivector/${f}`);
    }
  }
  if (problems.length > 0 && !existsSync(join(dir, "am")) && !existsSync(join(dir, "final.mdl"))) {
    // Probably the parent of the model (an unzip into a folder) or the wrong folder altogether.
    const inner = subdirs(dir).find((d) => checkModelLayout(d).ok);
    if (inner) problems.push(`the model seems to be one level down, in ${basename(inner)}/`);
  }
  return { dir, ok: problems.length === 0, problems, version, grammar };
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

/** A directory that looks like a model itself (not a directory of models). */
function looksLikeModel(dir: string): boolean {
  return ["am", "final.mdl", "conf", "graph"].some((f) => existsSync(join(dir, f)));
}

/** The language a Vosk model is for, from its published name: vosk-model-small-en-us-0.15 -> "en". */
export function modelLanguage(name: string): string | undefined {
  const m = /^vosk-model-(?:small-)?([a-z]{2,3})(?:-|$)/i.exec(name);
  if (m) return m[1].toLowerCase() === "cn" ? "zh" : m[1].toLowerCase();
  const plain = /^([a-z]{2,3})(?:[-_][a-z]{2})?$/i.exec(name); // "de", "en-us", "en_US"
  return plain ? plain[1].toLowerCase() : undefined;
}

function language(locale: string): string {
  return locale.split(/[-_]/)[0].toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Resolution

export interface ResolvedModel {
  dir: string;
  /** The variable (or directory) the model came from, for messages: "TALKCART_VOSK_MODEL_DE". */
  source: string;
  layout: ModelLayout;
}

/** Why no model can be used for a locale: one line naming the variable(s) and the layout. */
export class ModelNotFound extends Error {}

function pickFromDirectory(dir: string, locale: string): string | undefined {
  const lang = language(locale);
  const candidates = subdirs(dir).filter((d) => {
    const name = basename(d).toLowerCase();
    return name === locale.toLowerCase() || modelLanguage(name) === lang;
  });
  const score = (d: string) => {
    const layout = checkModelLayout(d);
    const name = basename(d).toLowerCase();
    return (layout.ok ? 8 : 0) + (layout.grammar ? 4 : 0) + (name === locale.toLowerCase() || name === lang ? 2 : 0) + (name.includes("small") ? 1 : 0);
  };
  // Best score first; among equals, the later version name (0.22 after 0.15).
  return candidates.sort((a, b) => score(b) - score(a) || basename(b).localeCompare(basename(a), "en", { numeric: true }))[0];
}

function brokenModel(dir: string, source: string, layout: ModelLayout): ModelNotFound {
  return new ModelNotFound(
    `${source} points to ${dir}, which is not a usable Vosk model: ${layout.problems.join("; ")}. Expected ${VOSK_MODEL_LAYOUT}.`,
  );
}

/**
 * The model directory for a locale, validated (see the order at the top of this file). Throws
 * ModelNotFound with a one-line reason naming the variable and the expected layout.
 */
export function resolveVoskModel(locale: string, env: NodeJS.ProcessEnv = process.env): ResolvedModel {
  const perLocale = localeModelEnv(locale);
  const lang = language(locale);
  const explicit = env[perLocale];
  if (explicit) {
    const dir = resolve(explicit);
    const layout = checkModelLayout(dir);
    if (!layout.ok) throw brokenModel(dir, perLocale, layout);
    return { dir, source: perLocale, layout };
  }
  const general = env[VOSK_MODEL_ENV];
  if (general) {
    const dir = resolve(general);
    if (existsSync(dir) && statSync(dir).isDirectory() && !looksLikeModel(dir)) {
      const picked = pickFromDirectory(dir, locale);
      if (!picked) {
        throw new ModelNotFound(
          `${VOSK_MODEL_ENV} points to ${dir}, a directory without a model for '${locale}' ` +
            `(expected a subdirectory named '${lang}' or vosk-model-…-${lang}-…, or set ${perLocale}). Each model is ${VOSK_MODEL_LAYOUT}.`,
        );
      }
      const layout = checkModelLayout(picked);
      if (!layout.ok) throw brokenModel(picked, VOSK_MODEL_ENV, layout);
      return { dir: picked, source: `${VOSK_MODEL_ENV} (${basename(picked)})`, layout };
    }
    const layout = checkModelLayout(dir);
    if (!layout.ok) throw brokenModel(dir, VOSK_MODEL_ENV, layout);
    const modelLang = modelLanguage(basename(dir));
    if (modelLang && modelLang !== lang) {
      throw new ModelNotFound(
        `${VOSK_MODEL_ENV} points to ${basename(dir)}, a model for '${modelLang}', not '${locale}': set ${perLocale} to a ${lang} model.`,
      );
    }
    return { dir, source: VOSK_MODEL_ENV, layout };
  }
  const home = modelsDir(env);
  const picked = existsSync(home) ? pickFromDirectory(home, locale) : undefined;
  if (picked) {
    const layout = checkModelLayout(picked);
    if (!layout.ok) throw brokenModel(picked, `the models directory ${displayPath(home, env)}`, layout);
    return { dir: picked, source: displayPath(home, env), layout };
  }
  const known = KNOWN_MODELS.find((m) => m.locale === lang && m.recommended);
  throw new ModelNotFound(
    `no Vosk model for '${locale}': set ${perLocale} (or ${VOSK_MODEL_ENV}) to ${VOSK_MODEL_LAYOUT}, ` +
      `or put one in ${displayPath(home, env)}` + (known ? ` (talkcart models --download ${known.name})` : "") + ".",
  );
}

// ---------------------------------------------------------------------------------------------
// Listing (`talkcart models`)

export interface KnownModel {
  name: string;
  /** Language, as talkcart's locales are named ("en", "de"). */
  locale: string;
  url: string;
  /** Size of the zip as published on the Vosk models page, in MB. */
  sizeMB: number;
  /** SHA-256 of the zip. Empty where no published value is known: such a model is not installed without `sha256` given. */
  sha256: string;
  /** Supports runtime grammars (small and lgraph models). */
  grammar: boolean;
  recommended?: boolean;
  note: string;
}

/**
 * Models talkcart knows by name. Names, URLs, sizes and grammar support are as published on the
 * Vosk models page (alphacephei.com/vosk/models). That page publishes no SHA-256, and none can be
 * computed here (no internet on these machines). The two small models' checksums are the ones that
 * independent projects pin for these exact URLs (a Yocto recipe's SRC_URI sha256sum and several
 * download scripts agree: 41,205,931 and 46,499,967 bytes); a wrong one could only make the install
 * refuse, never install something else. For the lgraph model no checksum is known, so the field is
 * empty rather than made up: `downloadModel` then needs it passed in (`--sha256`).
 */
export const KNOWN_MODELS: KnownModel[] = [
  {
    name: "vosk-model-small-en-us-0.15", locale: "en", url: "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
    sizeMB: 40, sha256: "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498", grammar: true, recommended: true, note: "small US English, for a Raspberry Pi",
  },
  {
    name: "vosk-model-en-us-0.22-lgraph", locale: "en", url: "https://alphacephei.com/vosk/models/vosk-model-en-us-0.22-lgraph.zip",
    sizeMB: 128, sha256: "", grammar: true, note: "larger US English, more accurate, still takes grammars",
  },
  {
    name: "vosk-model-small-de-0.15", locale: "de", url: "https://alphacephei.com/vosk/models/vosk-model-small-de-0.15.zip",
    sizeMB: 45, sha256: "b7e53c90b1f0a38456f4cd62b366ecd58803cd97cd42b06438e2c131713d5e43", grammar: true, recommended: true, note: "small German, for a Raspberry Pi",
  },
];

export interface InstalledModel {
  name: string;
  dir: string;
  locale?: string;
  /** Where it was found: a variable name or the models directory. */
  source: string;
  layout: ModelLayout;
}

/** Every model talkcart can see: the variables and the models directory (broken ones included, with their problems). */
export function listInstalledModels(env: NodeJS.ProcessEnv = process.env): InstalledModel[] {
  const out: InstalledModel[] = [];
  const seen = new Set<string>();
  const add = (dir: string, source: string, locale?: string) => {
    const abs = resolve(dir);
    if (seen.has(abs)) return;
    seen.add(abs);
    const name = basename(abs);
    out.push({ name, dir: abs, locale: locale ?? modelLanguage(name), source, layout: checkModelLayout(abs) });
  };
  const vars = Object.keys(env)
    .filter((k) => k.startsWith(`${VOSK_MODEL_ENV}_`) && env[k])
    .sort();
  for (const k of vars) add(env[k]!, k, k.slice(VOSK_MODEL_ENV.length + 1).toLowerCase());
  const general = env[VOSK_MODEL_ENV];
  if (general) {
    const dir = resolve(general);
    if (existsSync(dir) && statSync(dir).isDirectory() && !looksLikeModel(dir)) {
      for (const d of subdirs(dir)) add(d, VOSK_MODEL_ENV);
    } else add(dir, VOSK_MODEL_ENV);
  }
  const home = modelsDir(env);
  for (const d of subdirs(home)) add(d, displayPath(home, env));
  return out;
}

export interface ModelsReport {
  modelsDir: string;
  installed: InstalledModel[];
  /** Per locale: the model recognition would use, or why there is none. */
  locales: { locale: string; model?: string; source?: string; error?: string }[];
  known: (KnownModel & { installed: boolean })[];
}

export function modelsReport(locales: string[] = ["en", "de"], env: NodeJS.ProcessEnv = process.env): ModelsReport {
  const installed = listInstalledModels(env);
  return {
    modelsDir: modelsDir(env),
    installed,
    locales: locales.map((locale) => {
      try {
        const m = resolveVoskModel(locale, env);
        return { locale, model: m.dir, source: m.source };
      } catch (e) {
        return { locale, error: (e as Error).message };
      }
    }),
    known: KNOWN_MODELS.map((k) => ({ ...k, installed: installed.some((i) => i.name === k.name && i.layout.ok) })),
  };
}

/** What `talkcart models` prints. */
export function formatModelsReport(r: ModelsReport, env: NodeJS.ProcessEnv = process.env): string {
  const lines: string[] = [];
  lines.push("Vosk models in use:");
  for (const l of r.locales) lines.push(l.model ? `  ${l.locale}: ${displayPath(l.model, env)} (from ${l.source})` : `  ${l.locale}: none — ${l.error}`);
  lines.push("", r.installed.length ? "Installed:" : `Installed: none (models directory ${displayPath(r.modelsDir, env)})`);
  for (const m of r.installed) {
    const state = m.layout.ok ? (m.layout.grammar ? "ok, grammar mode" : "ok, open vocabulary only (no HCLr.fst/Gr.fst)") : `BROKEN: ${m.layout.problems.join("; ")}`;
    lines.push(`  ${m.name.padEnd(32)} ${(m.locale ?? "?").padEnd(3)} ${state}  [${m.source}]`);
  }
  lines.push("", "Known models (talkcart models --download NAME [--sha256 HEX]):");
  for (const k of r.known) {
    const sum = k.sha256 ? "sha256 pinned" : "no published sha256: pass --sha256";
    lines.push(`  ${k.name.padEnd(32)} ${k.locale.padEnd(3)} ${String(k.sizeMB).padStart(4)} MB  ${k.installed ? "installed" : sum}  ${k.note}`);
  }
  lines.push(
    "",
    `Without internet: download the zip elsewhere, check its SHA-256, unzip it into ${displayPath(r.modelsDir, env)} ` +
      `(or anywhere, and set ${VOSK_MODEL_ENV}_EN / _DE to the unzipped directory).`,
  );
  return lines.join("\n");
}

/** "[#####-----]  40% 16.0/40.0 MB" for a terminal progress line. */
export function formatProgress(p: DownloadProgress, width = 30): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  if (!p.total) return `${mb(p.received)} MB`;
  const f = Math.min(1, p.received / p.total);
  const full = Math.round(f * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}] ${String(Math.floor(f * 100)).padStart(3)}% ${mb(p.received)}/${mb(p.total)} MB`;
}

// ---------------------------------------------------------------------------------------------
// Download

export interface DownloadProgress {
  received: number;
  /** From Content-Length, else the published size; undefined when neither is known. */
  total?: number;
}

export interface DownloadOptions {
  env?: NodeJS.ProcessEnv;
  /** Where to install (default: the models directory). */
  dir?: string;
  /** Expected SHA-256 of the zip (hex); required when the table has none. */
  sha256?: string;
  /** Overrides the table's URL (a mirror, a local file server). */
  url?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** No connection or no bytes for this long aborts the download (default 30 s). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export class ModelDownloadError extends Error {}

function describeFetchError(e: unknown, url: string, idleTimeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? (err as { code?: string }).code;
  const host = (() => { try { return new URL(url).host; } catch { return url; } })();
  switch (code) {
    case "ECONNREFUSED": return `connection refused by ${host}`;
    case "ENOTFOUND":
    case "EAI_AGAIN": return `cannot resolve ${host} (no internet connection or DNS?)`;
    case "ENETUNREACH":
    case "EHOSTUNREACH": return `network unreachable for ${host} (no internet connection?)`;
    case "ECONNRESET":
    case "ERR_STREAM_PREMATURE_CLOSE": return `connection to ${host} dropped`;
    case "ETIMEDOUT": return `no connection to ${host} (no internet connection?)`;
  }
  if (err.name === "TimeoutError" || err.name === "AbortError") return `no data from ${host} for ${idleTimeoutMs / 1000} s`;
  return err.cause?.message ?? err.message ?? String(e);
}

/**
 * Downloads a known model (or any zip with `url` and `sha256`), checks its SHA-256 and installs it
 * under the models directory. The zip is written to a temporary directory beside the destination
 * and the model is moved into place only after the checksum matches and the unzipped layout is
 * complete: a failed or interrupted download leaves nothing behind. Refuses, before any network
 * traffic, to install a model without a checksum.
 */
export async function downloadModel(nameOrModel: string | KnownModel, opts: DownloadOptions = {}): Promise<InstalledModel> {
  const env = opts.env ?? process.env;
  const known = typeof nameOrModel === "string" ? KNOWN_MODELS.find((m) => m.name === nameOrModel) : nameOrModel;
  const name = typeof nameOrModel === "string" ? nameOrModel : nameOrModel.name;
  const url = opts.url ?? known?.url;
  if (!url) throw new ModelDownloadError(`unknown model '${name}': known are ${KNOWN_MODELS.map((m) => m.name).join(", ")} (or give its URL and SHA-256)`);
  const sha256 = (opts.sha256 ?? known?.sha256 ?? "").trim().toLowerCase();
  if (!sha256) {
    throw new ModelDownloadError(
      `no SHA-256 for ${name}: talkcart has no published checksum for it and does not install unverified models — ` +
        `pass the zip's SHA-256 (--sha256 HEX), or download ${url} yourself and unzip it into ${displayPath(opts.dir ?? modelsDir(env), env)}`,
    );
  }
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ModelDownloadError(`'${sha256}' is not a SHA-256 (64 hex digits)`);

  const destRoot = opts.dir ?? modelsDir(env);
  const dest = join(destRoot, name);
  const existing = checkModelLayout(dest);
  if (existing.ok) return { name, dir: dest, locale: known?.locale ?? modelLanguage(name), source: displayPath(destRoot, env), layout: existing };
  if (existsSync(dest)) throw new ModelDownloadError(`${dest} exists but is not a usable model (${existing.problems.join("; ")}): remove it first`);

  await mkdir(destRoot, { recursive: true });
  const tmp = await mkdtemp(join(destRoot, `.download-${name}-`));
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  try {
    const zipPath = join(tmp, `${name}.zip`);
    const digest = await fetchToFile(url, zipPath, { idleTimeoutMs, signal: opts.signal, onProgress: opts.onProgress, expectedBytes: known ? known.sizeMB * 1e6 : undefined })
      .catch((e: unknown) => {
        throw e instanceof ModelDownloadError ? e : new ModelDownloadError(
          `cannot download ${name} from ${url}: ${describeFetchError(e, url, idleTimeoutMs)}. ` +
            `Without internet: fetch the zip on another machine, check its SHA-256 and unzip it into ${displayPath(destRoot, env)}`,
        );
      });
    if (digest !== sha256) {
      throw new ModelDownloadError(`checksum mismatch for ${name}: the download has SHA-256 ${digest}, expected ${sha256}; nothing was installed`);
    }
    const unpacked = join(tmp, "unpacked");
    await extractZip(zipPath, unpacked);
    const roots = subdirs(unpacked);
    const root = checkModelLayout(unpacked).ok ? unpacked : roots.length === 1 ? roots[0] : undefined;
    const layout = root ? checkModelLayout(root) : undefined;
    if (!root || !layout?.ok) {
      throw new ModelDownloadError(`${name}: the zip does not hold a Vosk model (${layout?.problems.join("; ") ?? "no single model directory"}); nothing was installed`);
    }
    await rename(root, dest);
    return { name, dir: dest, locale: known?.locale ?? modelLanguage(name), source: displayPath(destRoot, env), layout: checkModelLayout(dest) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** GET with redirects (node:http/https: fetch refuses some ports and hides the socket errors). */
function get(url: string, signal: AbortSignal, redirects = 5): Promise<IncomingMessage> {
  return new Promise((resolveRes, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return reject(new ModelDownloadError(`'${url}' is not a URL`));
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return reject(new ModelDownloadError(`cannot download ${url}: only http and https are supported`));
    const req = (u.protocol === "https:" ? httpsGet : httpGet)(u, { signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects === 0) return reject(new ModelDownloadError(`cannot download ${url}: too many redirects`));
        return get(new URL(res.headers.location, u).href, signal, redirects - 1).then(resolveRes, reject);
      }
      if (status !== 200) {
        res.resume();
        return reject(new ModelDownloadError(`cannot download ${url}: HTTP ${status} ${res.statusMessage ?? ""}`.trim()));
      }
      resolveRes(res);
    });
    req.on("error", reject);
  });
}

async function fetchToFile(
  url: string,
  path: string,
  o: { idleTimeoutMs: number; signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void; expectedBytes?: number },
): Promise<string> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(o.signal?.reason);
  o.signal?.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { timedOut = true; controller.abort(); }, o.idleTimeoutMs);
  };
  arm();
  try {
    const res = await get(url, controller.signal);
    const length = Number(res.headers["content-length"]) || undefined;
    const total = length ?? o.expectedBytes;
    const hash = createHash("sha256");
    let received = 0;
    o.onProgress?.({ received, total });
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        arm();
        received += chunk.length;
        hash.update(chunk);
        o.onProgress?.({ received, total });
        done(null, chunk);
      },
    });
    await pipeline(res, meter, createWriteStream(path), { signal: controller.signal });
    if (length !== undefined && received !== length) throw new ModelDownloadError(`download of ${url} ended after ${received} of ${length} bytes`);
    return hash.digest("hex");
  } catch (e) {
    if (timedOut) throw Object.assign(new Error("idle"), { name: "TimeoutError" });
    throw e;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Unzips (stored and deflated entries, no zip64, no encryption: what Vosk's model zips are) into
 * `dest`, streaming each entry. Entries that would land outside `dest` are refused.
 */
export async function extractZip(zipPath: string, dest: string): Promise<string[]> {
  const fh = await open(zipPath, "r");
  const written: string[] = [];
  try {
    const size = (await fh.stat()).size;
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
    if (eocd < 0) throw new Error("not a zip file (no end of central directory)");
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff) throw new Error("zip64 archives are not supported");
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    const root = resolve(dest);
    mkdirSync(root, { recursive: true });
    let pos = 0;
    for (let i = 0; i < count; i++) {
      if (cd.readUInt32LE(pos) !== 0x02014b50) throw new Error("corrupt zip central directory");
      const flags = cd.readUInt16LE(pos + 8);
      const method = cd.readUInt16LE(pos + 10);
      const compSize = cd.readUInt32LE(pos + 20);
      const nameLen = cd.readUInt16LE(pos + 28);
      const extraLen = cd.readUInt16LE(pos + 30);
      const commentLen = cd.readUInt16LE(pos + 32);
      const localOffset = cd.readUInt32LE(pos + 42);
      const name = cd.subarray(pos + 46, pos + 46 + nameLen).toString("utf8");
      pos += 46 + nameLen + extraLen + commentLen;
      if (flags & 1) throw new Error(`encrypted entry ${name}`);
      const target = resolve(root, normalize(name));
      if (target !== root && !target.startsWith(root + sep)) throw new Error(`entry ${name} points outside the destination`);
      if (name.endsWith("/")) { mkdirSync(target, { recursive: true }); continue; }
      if (method !== 0 && method !== 8) throw new Error(`entry ${name} uses compression method ${method}`);
      const local = Buffer.alloc(30);
      await fh.read(local, 0, 30, localOffset);
      if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`corrupt local header for ${name}`);
      const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      mkdirSync(dirname(target), { recursive: true });
      const source = compSize === 0 ? Readable.from([]) : createReadStream(zipPath, { start: dataStart, end: dataStart + compSize - 1 });
      await pipeline(source, method === 8 ? createInflateRaw() : new PassThrough(), createWriteStream(target));
      written.push(target);
    }
  } finally {
    await fh.close();
  }
  return written;
}
