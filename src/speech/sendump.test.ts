import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_HMM } from "./jsgf.js";
import { readSendump, SendumpError, writeMixtureWeights } from "./sendump.js";
import { adaptationTools } from "./speaker-adaptation.js";
import { adaptationTestSkip } from "./speaker-adaptation-testing.js";

const sendump = join(DEFAULT_HMM, "sendump");
const dir = mkdtempSync(join(tmpdir(), "talkcart-sendump-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync(sendump))(`sendump -> mixture_weights${existsSync(sendump) ? "" : " (skipped: pocketsphinx-en-us not installed)"}`, () => {
  it("reads Debian's en-us weights: 5126 senones x 3 streams x 128 densities, each a distribution", () => {
    const m = readSendump(sendump);
    expect([m.senones, m.features, m.densities]).toEqual([5126, 3, 128]);
    for (const s of [0, 1000, 5125]) {
      for (let f = 0; f < 3; f++) {
        const row = m.weights.subarray((s * 3 + f) * 128, (s * 3 + f + 1) * 128);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
    }
  });

  const skip = adaptationTestSkip();
  it.skipIf(!!skip)(`SphinxTrain quantizes what it writes back to the same bytes${skip ? ` (skipped: ${skip})` : ""}`, () => {
    const mixw = join(dir, "mixture_weights");
    writeMixtureWeights(mixw, readSendump(sendump));
    execFileSync("pocketsphinx_mdef_convert", ["-text", join(DEFAULT_HMM, "mdef"), join(dir, "mdef.txt")], { stdio: "ignore" });
    const back = join(dir, "sendump");
    execFileSync(adaptationTools().tools.sendump, ["-pocketsphinx", "yes", "-mwfloor", "1e-7", "-moddeffn", join(dir, "mdef.txt"), "-mixwfn", mixw, "-sendumpfn", back], { stdio: "ignore" });
    expect(readFileSync(back).equals(readFileSync(sendump))).toBe(true);
  });

  it("a file that is not a sendump is an error naming it", () => {
    const bad = join(dir, "bad");
    writeFileSync(bad, "s3\nversion 1.0\nendhdr\n");
    expect(() => readSendump(bad)).toThrow(SendumpError);
    expect(() => readSendump(bad)).toThrow(/bad: /);
    const truncated = join(dir, "truncated");
    writeFileSync(truncated, readFileSync(sendump).subarray(0, 100_000));
    expect(() => readSendump(truncated)).toThrow(/truncated: expected 3 x 128 x 5126 weights, found \d+ bytes/);
  });
});
