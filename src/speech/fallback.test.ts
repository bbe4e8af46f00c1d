import { describe, expect, it } from "vitest";
import type { Pcm } from "../audio/types.js";
import { FallbackRecognizer } from "./fallback.js";
import type { Hypothesis, Recognizer } from "./types.js";

/** Hears the number of samples it was given ("320 samples"): shows which audio reached which engine. */
function countingRecognizer(name: string, fail: () => Error | null = () => null): Recognizer & { utterances: number; closed: boolean } {
  const r = {
    name, locale: "en", utterances: 0, closed: false,
    begin() {
      r.utterances++;
      let samples = 0;
      return {
        write: (pcm: Pcm) => { samples += pcm.length; },
        partial: () => "",
        end: async (): Promise<Hypothesis[]> => {
          const error = fail();
          if (error) throw error;
          return [{ text: `${name} ${samples} samples`, confidence: 1 }];
        },
      };
    },
    close: async () => { r.closed = true; },
  };
  return r;
}

async function say(recognizer: Recognizer, chunks: number) {
  const u = recognizer.begin();
  for (let i = 0; i < chunks; i++) u.write(new Int16Array(320));
  const hypotheses = await u.end();
  return { text: hypotheses[0]?.text, recoveredFrom: u.recoveredFrom?.message };
}

describe("FallbackRecognizer", () => {
  it("gives a failed utterance's audio, all of it, to the backup, and says it recovered", async () => {
    const failures: string[] = [];
    const primary = countingRecognizer("cloud", () => new Error("no network"));
    const backup = countingRecognizer("offline");
    const r = new FallbackRecognizer(primary, async () => backup, { onFallback: (e, b) => failures.push(`${e.message} -> ${b.name}`) });
    expect(await say(r, 3)).toEqual({ text: "offline 960 samples", recoveredFrom: "no network" });
    expect(failures).toEqual(["no network -> offline"]);
  });

  it("keeps the backup for the next utterances, then tries the primary again", async () => {
    let now = 0;
    let down = true;
    const primary = countingRecognizer("cloud", () => (down ? new Error("no network") : null));
    const backup = countingRecognizer("offline");
    const r = new FallbackRecognizer(primary, async () => backup, { retryAfterMs: 60_000, now: () => now });
    await say(r, 1);
    now = 30_000;
    expect(await say(r, 2)).toEqual({ text: "offline 640 samples", recoveredFrom: undefined });
    expect(primary.utterances).toBe(1); // no second wait for a service that is down
    down = false;
    now = 61_000;
    expect(await say(r, 1)).toEqual({ text: "cloud 320 samples", recoveredFrom: undefined });
  });

  it("opens the backup only when the primary fails, and once", async () => {
    let opened = 0;
    const primary = countingRecognizer("cloud");
    const r = new FallbackRecognizer(primary, async () => (opened++, countingRecognizer("offline")), { retryAfterMs: 0 });
    await say(r, 1);
    expect(opened).toBe(0);
    const failing = new FallbackRecognizer(countingRecognizer("cloud", () => new Error("down")), async () => (opened++, countingRecognizer("offline")), { retryAfterMs: 0 });
    await say(failing, 1);
    await say(failing, 1);
    expect(opened).toBe(1);
  });

  it("without a backup, the primary's error stands and the primary is asked again next time", async () => {
    const primary = countingRecognizer("cloud", () => new Error("401 unauthorized"));
    const r = new FallbackRecognizer(primary, async () => null);
    await expect(say(r, 1)).rejects.toThrow("401 unauthorized");
    await expect(say(r, 1)).rejects.toThrow("401 unauthorized");
    expect(primary.utterances).toBe(2);
  });

  it("closes both engines", async () => {
    const primary = countingRecognizer("cloud", () => new Error("down"));
    const backup = countingRecognizer("offline");
    const r = new FallbackRecognizer(primary, async () => backup);
    await say(r, 1);
    await r.close();
    expect([primary.closed, backup.closed]).toEqual([true, true]);
  });

  it("names the engine that takes the next utterance, and says why no backup could be opened", async () => {
    let now = 0;
    const r = new FallbackRecognizer(countingRecognizer("cloud", () => new Error("down")), async () => countingRecognizer("offline"), { retryAfterMs: 1000, now: () => now });
    expect(r.name).toBe("cloud");
    await say(r, 1);
    expect(r.name).toBe("offline");
    now = 1000;
    expect(r.name).toBe("cloud");
    const why: string[] = [];
    const alone = new FallbackRecognizer(countingRecognizer("cloud", () => new Error("down")), async () => { throw new Error("pocketsphinx: acoustic model directory not found"); }, { onNoBackup: (e) => why.push(e.message) });
    await expect(say(alone, 1)).rejects.toThrow("down");
    await expect(say(alone, 1)).rejects.toThrow("down");
    expect(why).toEqual(["pocketsphinx: acoustic model directory not found"]); // tried once, not on every turn
  });
});
