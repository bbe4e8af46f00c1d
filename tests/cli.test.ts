import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { talkcart } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");

describe("talkcart CLI", () => {
  it("say --json prints one JSON turn and nothing else on stdout, and logs the turn", async () => {
    const r = await talkcart(["say", "add two packs of coffee to my cart", "--json"]);
    expect(r.code).toBe(0);
    const turn = JSON.parse(r.stdout);
    expect(turn).toMatchObject({ intent: "AddToCart", slots: { quantity: 2, product: "coffee" }, stateAfter: "ready" });
    expect(turn.reply).toMatch(/two packs of Lavazza Crema/);
    const log = readFileSync(join(r.data, "turns.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(log).toHaveLength(1);
    expect(log[0].turn).toMatchObject({ input: "add two packs of coffee to my cart", intent: "AddToCart", locale: "en" });
    expect(log[0].turn.shopCalls.map((c: { method: string }) => c.method)).toContain("addToCart");
  }, 60_000);

  it("chat reads piped lines in order, keeps PIN digits out of the log, and places the order once", async () => {
    const data = mkdtempSync(join(tmpdir(), "talkcart-cli-"));
    const r = await talkcart(["chat"], { data, input: "add two packs of coffee\ncheck out\nyes\nfour three two one\nyes\nstop\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Typed mode/);
    expect(r.stdout).toMatch(/Order \w+ is placed/);
    expect(r.stdout.match(/is placed/g)).toHaveLength(1);
    expect(readFileSync(join(data, "turns.log"), "utf8")).not.toMatch(/four three two one/);
    const orders = await talkcart(["orders", "--json"], { data });
    expect(JSON.parse(orders.stdout).filter((o: { status: string; placedAt: string }) => o.placedAt.startsWith(new Date().toISOString().slice(0, 10)))).toHaveLength(1);
  }, 60_000);

  it("reports a malformed intent file with file and line, without a stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkcart-intents-"));
    cpSync(join(root, "intents"), dir, { recursive: true });
    const file = join(dir, "en", "Help.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace(/- "/, '- "(help'));
    const r = await talkcart(["intents", "check", "--intents", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^talkcart: .*Help\.yaml:\d+: '\(' is never closed/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it("explains a wrong locale and an unreachable database in one line", async () => {
    const locale = await talkcart(["say", "hi", "--locale", "fr"]);
    expect(locale.code).toBe(1);
    expect(locale.stderr.trim()).toBe("talkcart: unknown locale 'fr': use one of en, de (--locale or TALKCART_LOCALE)");
    const child = await talkcart(["say", "hi"], { env: { ...process.env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" } });
    expect(child.code).toBe(1);
    expect(child.stderr).toMatch(/cannot use the database in DATABASE_URL .*unset DATABASE_URL/);
  }, 60_000);

  it("intents check counts every intent in both locales", async () => {
    const r = await talkcart(["intents", "check", "--json"]);
    const report = JSON.parse(r.stdout) as { locale: string; intents: { intent: string; expansions: number }[] }[];
    expect(report.map((l) => l.locale)).toEqual(["en", "de"]);
    for (const l of report) {
      expect(l.intents.length).toBeGreaterThanOrEqual(21);
      expect(l.intents.every((i) => i.expansions > 0)).toBe(true);
    }
  }, 60_000);

  it("the launcher runs as a program of its own and gives node the flags on its first line", async () => {
    // (dist/ is built by `npm install`; a module imported first reports how node was started)
    const probe = join(mkdtempSync(join(tmpdir(), "talkcart-launcher-")), "probe.mjs");
    writeFileSync(probe, "process.on('exit', () => console.error('execArgv=' + JSON.stringify(process.execArgv)));\n");
    const launcher = join(root, "bin/talkcart.js");
    const flagsOf = (command: string) => command.split(/\s+/).filter((w) => w.startsWith("--"));
    const flags = flagsOf(readFileSync(launcher, "utf8").split("\n", 1)[0]);
    expect(flags).toContain("--max-semi-space-size=4");
    // the other ways it is started run node with the same flags
    expect(flagsOf(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts.start)).toEqual(flags);
    const service = readFileSync(join(root, "device/talkcart.service"), "utf8").match(/^ExecStart=(.*)$/m)![1];
    expect(flagsOf(service.split(" bin/talkcart.js")[0])).toEqual(flags);
    const { stdout, stderr } = await promisify(execFile)(launcher, ["--help"], { env: { ...process.env, NODE_OPTIONS: `--import ${probe}` } });
    expect(stdout).toMatch(/^Usage: talkcart/);
    expect(JSON.parse(stderr.match(/execArgv=(.*)/)![1])).toEqual(flags);
  }, 60_000);
});
