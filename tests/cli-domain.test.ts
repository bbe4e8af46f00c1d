import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, talkcart } from "./helpers/cli.js";
import { concat, espeakPcm, silence } from "../src/audio/testing.js";
import { writeWav } from "../src/audio/wav.js";
import { pocketsphinxTestSkip } from "../src/speech/recognizer-contract.js";

const voiceSkip = pocketsphinxTestSkip();

// examples/coffee-bar: a domain of its own, brought with --intents or TALKCART_INTENTS and no code.
const REPLY = "One large oat latte, coming up. Anything else?";

describe("talkcart CLI on a domain of your own", () => {
  it("answers the coffee bar's OrderDrink from its responses.yaml, with --intents", async () => {
    const r = await talkcart(["say", "can i get a large oat latte", "--intents", "examples/coffee-bar", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ intent: "OrderDrink", reply: REPLY, replyKey: "OrderDrink", stateAfter: "ready", shopCalls: [] });
  }, 60_000);

  it("answers it the same with TALKCART_INTENTS and no flag", async () => {
    const r = await talkcart(["say", "can i get a large oat latte"], { env: { ...process.env, DATABASE_URL: "", TALKCART_INTENTS: "examples/coffee-bar" } });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(REPLY);
  }, 60_000);

  it("intents check accepts the coffee bar, its OrderDrink response included", async () => {
    const r = await talkcart(["intents", "check", "--intents", "examples/coffee-bar"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^en: 1 intents, all files valid\n\s+OrderDrink\s+2 templates\s+2880 expansions/);
  }, 60_000);

  it("intents check names the file and line of an OrderDrink response using a slot the intent does not have", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkcart-domain-"));
    cpSync(join(ROOT, "examples/coffee-bar"), dir, { recursive: true });
    const file = join(dir, "en", "responses.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("{milk}", "{colour}"));
    const r = await talkcart(["intents", "check", "--intents", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^talkcart: .*responses\.yaml:\d+: response 'OrderDrink' uses \{colour\}, which intent OrderDrink has no slot for/);
  }, 60_000);

  it.skipIf(!!voiceSkip)(`hears a spoken order: the recognizer's grammar is compiled from the domain's intents${voiceSkip ? ` (skipped: ${voiceSkip})` : ""}`, async () => {
    const wav = join(mkdtempSync(join(tmpdir(), "talkcart-domain-")), "order.wav");
    await writeWav(wav, concat(silence(300), await espeakPcm("can i get a large oat latte"), silence(1000)));
    const r = await talkcart(["replay", wav, "--intents", "examples/coffee-bar", "--stt", "pocketsphinx", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const { turns } = JSON.parse(r.stdout) as { turns: { transcript: string; intent: string; slots: object; reply: string }[] };
    expect(turns).toEqual([expect.objectContaining({ transcript: "can i get a large oat latte", intent: "OrderDrink", reply: REPLY })]);
  }, 60_000);
});
