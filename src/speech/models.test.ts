import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkModelLayout, downloadModel, extractZip, formatModelsReport, formatProgress, KNOWN_MODELS, listInstalledModels,
  localeModelEnv, ModelDownloadError, modelLanguage, modelsDir, modelsReport, ModelNotFound, resolveVoskModel, VOSK_MODEL_ENV,
  type DownloadProgress,
} from "./models.js";
import { fakeModel, makeZip, SMALL_MODEL_FILES } from "./models-testing.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let root: string;
beforeEach(() => { root = mkdtempSync(join(tmpdir(), "talkcart-models-")); });
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** An environment with nothing set but a HOME of our own (so the models directory is ours too). */
const envWith = (vars: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HOME: join(root, "home"), ...vars });

describe("model layout", () => {
  it("accepts a small model (runtime grammars) and a big HCLG one (no grammars)", () => {
    const small = checkModelLayout(fakeModel(join(root, "vosk-model-small-en-us-0.15")));
    expect(small).toMatchObject({ ok: true, grammar: true, version: 2, problems: [] });
    const big = checkModelLayout(fakeModel(join(root, "big"), ["am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLG.fst"]));
    expect(big).toMatchObject({ ok: true, grammar: false });
  });

  it("names each missing or empty file", () => {
    const dir = fakeModel(join(root, "m"), ["am/final.mdl", "conf/mfcc.conf", "graph/Gr.fst", "ivector/final.ie"]);
    writeFileSync(join(dir, "am/final.mdl"), "");
    const r = checkModelLayout(dir);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(expect.arrayContaining([
      "am/final.mdl is empty", "conf/model.conf missing", "graph/HCLr.fst missing", "graph/disambig_tid.int missing", "ivector/final.dubm missing",
    ]));
    expect(r.problems).not.toContain("conf/mfcc.conf missing");
  });

  it("says so for a missing directory, a zip and a model one level down", () => {
    expect(checkModelLayout(join(root, "nope")).problems).toEqual(["does not exist"]);
    writeFileSync(join(root, "m.zip"), "PK");
    expect(checkModelLayout(join(root, "m.zip")).problems[0]).toMatch(/unzip it first/);
    fakeModel(join(root, "outer", "vosk-model-small-de-0.15"));
    expect(checkModelLayout(join(root, "outer")).problems.join("; ")).toMatch(/one level down, in vosk-model-small-de-0.15/);
  });

  it("accepts the old flat layout", () => {
    expect(checkModelLayout(fakeModel(join(root, "v1"), ["final.mdl", "mfcc.conf", "HCLG.fst"]))).toMatchObject({ ok: true, version: 1 });
  });
});

describe("which model a locale uses", () => {
  it("reads the language from Vosk's model names", () => {
    expect(modelLanguage("vosk-model-small-en-us-0.15")).toBe("en");
    expect(modelLanguage("vosk-model-de-0.21")).toBe("de");
    expect(modelLanguage("vosk-model-en-us-0.22-lgraph")).toBe("en");
    expect(modelLanguage("de")).toBe("de");
    expect(modelLanguage("my-model")).toBeUndefined();
    expect(localeModelEnv("de-AT")).toBe("TALKCART_VOSK_MODEL_DE");
  });

  it("takes TALKCART_VOSK_MODEL_<LANG> first, then TALKCART_VOSK_MODEL", () => {
    const de = fakeModel(join(root, "de-model"));
    const any = fakeModel(join(root, "any-model"));
    const env = envWith({ TALKCART_VOSK_MODEL_DE: de, TALKCART_VOSK_MODEL: any });
    expect(resolveVoskModel("de", env)).toMatchObject({ dir: de, source: "TALKCART_VOSK_MODEL_DE" });
    expect(resolveVoskModel("en", env)).toMatchObject({ dir: any, source: VOSK_MODEL_ENV });
  });

  it("refuses a model whose name says another language", () => {
    const en = fakeModel(join(root, "vosk-model-small-en-us-0.15"));
    expect(() => resolveVoskModel("de", envWith({ TALKCART_VOSK_MODEL: en }))).toThrow(/a model for 'en', not 'de': set TALKCART_VOSK_MODEL_DE/);
  });

  it("picks the locale's model from a directory of models, grammar-capable ones first", () => {
    const dir = join(root, "models");
    fakeModel(join(dir, "vosk-model-small-en-us-0.15"));
    fakeModel(join(dir, "vosk-model-de-0.21"), ["am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLG.fst"]);
    fakeModel(join(dir, "vosk-model-small-de-0.15"));
    const env = envWith({ TALKCART_VOSK_MODEL: dir });
    expect(resolveVoskModel("de", env).dir).toBe(join(dir, "vosk-model-small-de-0.15"));
    expect(resolveVoskModel("en", env)).toMatchObject({ dir: join(dir, "vosk-model-small-en-us-0.15"), source: "TALKCART_VOSK_MODEL (vosk-model-small-en-us-0.15)" });
    rmSync(join(dir, "vosk-model-small-en-us-0.15"), { recursive: true });
    expect(() => resolveVoskModel("en", env)).toThrow(/TALKCART_VOSK_MODEL points to .*models, a directory without a model for 'en'.*TALKCART_VOSK_MODEL_EN/);
  });

  it("falls back to the models directory under XDG_DATA_HOME or ~/.local/share", () => {
    const env = envWith();
    expect(modelsDir(env)).toBe(join(root, "home", ".local", "share", "talkcart", "models"));
    expect(modelsDir({ ...env, XDG_DATA_HOME: join(root, "xdg") })).toBe(join(root, "xdg", "talkcart", "models"));
    fakeModel(join(modelsDir(env), "vosk-model-small-de-0.15"));
    expect(resolveVoskModel("de", env)).toMatchObject({ source: "~/.local/share/talkcart/models" });
  });

  it("with nothing installed, names both variables, the layout and how to fetch one", () => {
    const err = (() => { try { resolveVoskModel("de", envWith()); } catch (e) { return e as Error; } })();
    expect(err).toBeInstanceOf(ModelNotFound);
    expect(err!.message).toMatch(/no Vosk model for 'de': set TALKCART_VOSK_MODEL_DE \(or TALKCART_VOSK_MODEL\)/);
    expect(err!.message).toContain("am/final.mdl");
    expect(err!.message).toContain("talkcart models --download vosk-model-small-de-0.15");
  });

  it("a broken model named by a variable is an error naming that variable (never replaced by another)", () => {
    const broken = fakeModel(join(root, "broken"), ["am/final.mdl"]);
    fakeModel(join(modelsDir(envWith()), "vosk-model-small-de-0.15"));
    expect(() => resolveVoskModel("de", envWith({ TALKCART_VOSK_MODEL_DE: broken }))).toThrow(
      /TALKCART_VOSK_MODEL_DE points to .*broken, which is not a usable Vosk model: conf\/model\.conf missing.*Expected a Vosk model directory/,
    );
  });
});

describe("talkcart models", () => {
  it("lists what is installed, broken ones with their problems, and the known models", () => {
    const env = envWith({ TALKCART_VOSK_MODEL_DE: fakeModel(join(root, "vosk-model-small-de-0.15")) });
    fakeModel(join(modelsDir(env), "vosk-model-small-en-us-0.15"), ["am/final.mdl"]);
    mkdirSync(join(modelsDir(env), ".download-x-123"));
    const installed = listInstalledModels(env);
    expect(installed.map((m) => [m.name, m.locale, m.layout.ok])).toEqual([
      ["vosk-model-small-de-0.15", "de", true],
      ["vosk-model-small-en-us-0.15", "en", false],
    ]);
    const report = modelsReport(["en", "de"], env);
    expect(report.locales[1]).toMatchObject({ locale: "de", source: "TALKCART_VOSK_MODEL_DE" });
    expect(report.locales[0].error).toMatch(/conf\/model\.conf missing/);
    const text = formatModelsReport(report, env);
    expect(text).toMatch(/de: .*vosk-model-small-de-0.15 \(from TALKCART_VOSK_MODEL_DE\)/);
    expect(text).toMatch(/vosk-model-small-en-us-0.15 +en +BROKEN: conf\/model\.conf missing/);
    expect(text).toMatch(/vosk-model-small-de-0.15 +de +45 MB +installed/);
    expect(text).toContain("~/.local/share/talkcart/models");
  });

  it("keeps no invented checksums: every known model has a real SHA-256 or none", () => {
    for (const m of KNOWN_MODELS) expect(m.sha256).toMatch(/^(|[0-9a-f]{64})$/);
    // The models the hints name (talkcart models --download NAME, without --sha256) carry a checksum.
    for (const m of KNOWN_MODELS.filter((k) => k.recommended)) expect(m.sha256, m.name).toMatch(/^[0-9a-f]{64}$/);
  });

  it("draws a progress bar", () => {
    expect(formatProgress({ received: 20e6, total: 40e6 }, 10)).toBe("[#####-----]  50% 20.0/40.0 MB");
    expect(formatProgress({ received: 1.5e6 })).toBe("1.5 MB");
  });
});

describe("unzipping", () => {
  it("extracts stored and deflated entries, directories included", async () => {
    const zip = join(root, "a.zip");
    writeFileSync(zip, makeZip({ "m/": "", "m/am/final.mdl": "model".repeat(1000), "m/empty": "" }));
    await extractZip(zip, join(root, "out"));
    expect(checkModelLayout(join(root, "out", "m")).problems).toContain("conf/model.conf missing");
    writeFileSync(zip, makeZip({ "x.txt": "stored" }, true));
    await extractZip(zip, join(root, "out2"));
    expect(existsSync(join(root, "out2", "x.txt"))).toBe(true);
  });

  it("refuses entries that would land outside the destination", async () => {
    const zip = join(root, "evil.zip");
    writeFileSync(zip, makeZip({ "../evil.txt": "x" }));
    await expect(extractZip(zip, join(root, "out"))).rejects.toThrow(/outside the destination/);
    expect(existsSync(join(root, "evil.txt"))).toBe(false);
  });
});

describe("downloading a model", () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  /** A file server on loopback; `handler` decides what each request gets. */
  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.zip`;
  }

  const modelZip = () => {
    const entries: Record<string, string> = {};
    for (const f of SMALL_MODEL_FILES) entries[`vosk-model-small-de-0.15/${f}`] = `contents of ${f}`;
    return makeZip(entries);
  };
  /** Nothing of a download is left: the models directory holds only what was there before. */
  const leftovers = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

  it("refuses a model without a checksum before any network traffic", async () => {
    let requests = 0;
    const url = await serve((_req, res) => { requests++; res.end("x"); });
    const env = envWith();
    const err = await downloadModel("vosk-model-en-us-0.22-lgraph", { env, url }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ModelDownloadError);
    expect((err as Error).message).toMatch(/no SHA-256 for vosk-model-en-us-0.22-lgraph: .*does not install unverified models — pass the zip's SHA-256 \(--sha256 HEX\)/);
    expect(requests).toBe(0);
    expect(existsSync(modelsDir(env))).toBe(false);
    await expect(downloadModel("no-such-model", { env })).rejects.toThrow(/unknown model 'no-such-model': known are vosk-model-small-en-us-0.15/);
    await expect(downloadModel("vosk-model-small-de-0.15", { env, sha256: "abc" })).rejects.toThrow(/not a SHA-256/);
  });

  it("fails fast and clearly where the server cannot be reached, leaving nothing behind", async () => {
    const env = envWith();
    const started = Date.now();
    const err = await downloadModel("vosk-model-small-de-0.15", { env, url: "http://127.0.0.1:1/vosk-model-small-de-0.15.zip", sha256: "0".repeat(64) })
      .catch((e: Error) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toBeInstanceOf(ModelDownloadError);
    expect((err as Error).message).toMatch(
      /^cannot download vosk-model-small-de-0.15 from http:\/\/127.0.0.1:1\/vosk-model-small-de-0.15.zip: connection refused by 127.0.0.1:1\. Without internet: fetch the zip on another machine, check its SHA-256 and unzip it into ~\/.local\/share\/talkcart\/models$/,
    );
    expect(leftovers(modelsDir(env))).toEqual([]);
  });

  it("installs a model whose checksum matches, reporting progress", async () => {
    const zip = modelZip();
    const url = await serve((_req, res) => { res.setHeader("content-length", zip.length); res.end(zip); });
    const env = envWith();
    const seen: DownloadProgress[] = [];
    const m = await downloadModel("vosk-model-small-de-0.15", { env, url, sha256: sha(zip).toUpperCase(), onProgress: (p) => seen.push(p) });
    expect(m).toMatchObject({ name: "vosk-model-small-de-0.15", locale: "de", dir: join(modelsDir(env), "vosk-model-small-de-0.15") });
    expect(m.layout).toMatchObject({ ok: true, grammar: true });
    expect(seen[0]).toEqual({ received: 0, total: zip.length });
    expect(seen.at(-1)).toEqual({ received: zip.length, total: zip.length });
    expect(leftovers(modelsDir(env))).toEqual(["vosk-model-small-de-0.15"]);
    expect(resolveVoskModel("de", env).dir).toBe(m.dir);
    // Already there: nothing is fetched again.
    await expect(downloadModel("vosk-model-small-de-0.15", { env, url: "http://127.0.0.1:1/", sha256: sha(zip) })).resolves.toMatchObject({ dir: m.dir });
  });

  it("checks a recommended model against its pinned checksum when none is passed", async () => {
    const zip = modelZip();
    const url = await serve((_req, res) => res.end(zip));
    const env = envWith();
    await expect(downloadModel("vosk-model-small-de-0.15", { env, url }))
      .rejects.toThrow(/checksum mismatch for vosk-model-small-de-0.15: .*expected b7e53c90b1f0a38456f4cd62b366ecd58803cd97cd42b06438e2c131713d5e43; nothing was installed/);
    expect(leftovers(modelsDir(env))).toEqual([]);
  });

  it("installs nothing when the checksum does not match", async () => {
    const zip = modelZip();
    const url = await serve((_req, res) => res.end(zip));
    const env = envWith();
    await expect(downloadModel("vosk-model-small-de-0.15", { env, url, sha256: "f".repeat(64) }))
      .rejects.toThrow(new RegExp(`checksum mismatch for vosk-model-small-de-0.15: the download has SHA-256 ${sha(zip)}, expected f{64}; nothing was installed`));
    expect(leftovers(modelsDir(env))).toEqual([]);
  });

  it("installs nothing when the connection drops half-way", async () => {
    const zip = modelZip();
    const url = await serve((_req, res) => {
      res.setHeader("content-length", zip.length);
      res.write(zip.subarray(0, zip.length >> 1), () => res.destroy());
    });
    const env = envWith();
    const err = await downloadModel("vosk-model-small-de-0.15", { env, url, sha256: sha(zip) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ModelDownloadError);
    expect((err as Error).message).toMatch(/^cannot download vosk-model-small-de-0.15 from http:\/\/127.0.0.1:\d+\/model.zip: /);
    expect(leftovers(modelsDir(env))).toEqual([]);
  });

  it("installs nothing from a zip that holds no model, or from an HTTP error", async () => {
    const zip = makeZip({ "readme.txt": "not a model" });
    const url = await serve((req, res) => {
      if (req.url === "/missing.zip") { res.statusCode = 404; res.end("no"); } else res.end(zip);
    });
    const env = envWith();
    await expect(downloadModel("vosk-model-small-de-0.15", { env, url, sha256: sha(zip) })).rejects.toThrow(/the zip does not hold a Vosk model .*nothing was installed/);
    await expect(downloadModel("vosk-model-small-de-0.15", { env, url: url.replace("model.zip", "missing.zip"), sha256: sha(zip) })).rejects.toThrow(/HTTP 404/);
    expect(leftovers(modelsDir(env))).toEqual([]);
  });

  it("gives up on a server that stops sending", async () => {
    const url = await serve((_req, res) => { res.setHeader("content-length", 1000); res.write("x"); /* then nothing */ });
    const env = envWith();
    await expect(downloadModel("vosk-model-small-de-0.15", { env, url, sha256: "0".repeat(64), idleTimeoutMs: 300 }))
      .rejects.toThrow(/cannot download vosk-model-small-de-0.15 from .*: no data from 127.0.0.1:\d+ for 0.3 s/);
    expect(leftovers(modelsDir(env))).toEqual([]);
  });
});
