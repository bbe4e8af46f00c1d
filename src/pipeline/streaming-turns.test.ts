import { describe, expect, it } from "vitest";
import { arraySource } from "../audio/sources.js";
import { concat, espeakPcm, silence } from "../audio/testing.js";
import type { Pcm } from "../audio/types.js";
import { SpeechServiceError, type Hypothesis, type Recognizer, type Utterance } from "../speech/types.js";
import { StreamingTurns } from "./streaming-turns.js";
import { pocketsphinxTestSkip } from "../speech/recognizer-contract.js";
import { createWakeWordSpotter } from "../speech/wake-word.js";

/** A recognizer that records what it was given: the streaming mechanics are under test, not recognition. */
function recordingRecognizer() {
  const utterances: { samples: number; endedAfterWrites: number }[] = [];
  const recognizer: Recognizer = {
    name: "recording",
    locale: "en",
    begin(): Utterance {
      const u = { samples: 0, endedAfterWrites: 0 };
      utterances.push(u);
      let writes = 0;
      return {
        write: (pcm: Pcm) => { u.samples += pcm.length; writes++; },
        partial: () => (u.samples > 16000 ? "four three" : u.samples > 8000 ? "add" : ""),
        end: async (): Promise<Hypothesis[]> => { u.endedAfterWrites = writes; return [{ text: `utterance ${utterances.length}`, confidence: 1 }]; },
      };
    },
    close: async () => {},
  };
  return { recognizer, utterances };
}

describe("streaming turns", () => {
  it("feeds each utterance to the recognizer while it is spoken, pre-roll included, and ends it at the endpoint", async () => {
    const a = await espeakPcm("add two packs of coffee to my cart");
    const b = await espeakPcm("check out");
    const audio = concat(silence(500), a, silence(1500), b, silence(1200));
    const { recognizer, utterances } = recordingRecognizer();
    const partials: string[] = [];
    let levels = 0;
    const turns = new StreamingTurns(arraySource(audio), recognizer, {}, { onPartial: (p) => partials.push(p), onLevel: () => levels++ });
    const first = await turns.next();
    const second = await turns.next();
    const end = await turns.next();
    expect(first).toMatchObject({ type: "utterance", alternatives: [{ text: "utterance 1" }] });
    expect(second).toMatchObject({ type: "utterance", alternatives: [{ text: "utterance 2" }] });
    expect(end.type).toBe("end");
    // Everything the endpointer cut was given to the recognizer (it also hears the trailing silence).
    if (first.type !== "utterance" || second.type !== "utterance") throw new Error("unreachable");
    expect(utterances[0].samples).toBeGreaterThanOrEqual(first.pcm.length - 320);
    expect(utterances[1].samples).toBeGreaterThanOrEqual(second.pcm.length - 320);
    // Decoding started during speech, in many small writes, not in one go at the end.
    expect(utterances[0].endedAfterWrites).toBeGreaterThan(20);
    expect(partials).toContain("add");
    expect(levels).toBeGreaterThan(100);
    await turns.close();
  });

  it("says which partial transcripts answer a secret question (the PIN), for whoever shows them to redact", async () => {
    const said = await espeakPcm("four three two one");
    const { recognizer } = recordingRecognizer();
    const partials: [string, boolean][] = [];
    const turns = new StreamingTurns(arraySource(concat(silence(300), said, silence(1200), said, silence(1200))), recognizer, {}, { onPartial: (p, secret) => partials.push([p, secret]) });
    await turns.next({ context: { expect: ["ProvidePin"], exclusive: true } });
    expect(partials).toEqual([["add", true], ["four three", true]]);
    partials.length = 0;
    await turns.next({ context: { expect: ["ProvidePin"] } });
    expect(partials).toEqual([["add", false], ["four three", false]]);
    await turns.close();
  });

  it("a speech service's failure is a failed turn (and the next one is heard); any other error is a bug and propagates", async () => {
    const failing = (error: Error): Recognizer => ({
      name: "failing", locale: "en", close: async () => {},
      begin: () => ({ write: () => {}, partial: () => "", end: async () => { throw error; } }),
    });
    const said = await espeakPcm("add two packs of coffee");
    const audio = () => arraySource(concat(silence(300), said, silence(1200), said, silence(1200)));
    const service = new StreamingTurns(audio(), failing(new SpeechServiceError("Azure Speech: lost the connection")));
    expect(await service.next()).toMatchObject({ type: "failed", error: { message: "Azure Speech: lost the connection" } });
    expect((await service.next()).type).toBe("failed");
    expect((await service.next()).type).toBe("end");
    const bug = new StreamingTurns(audio(), failing(new TypeError("cannot read properties of undefined")));
    await expect(bug.next()).rejects.toThrow(TypeError);
    await bug.close();
  });

  it("reports no-input when nobody speaks", async () => {
    const { recognizer, utterances } = recordingRecognizer();
    const turns = new StreamingTurns(arraySource(silence(4000)), recognizer);
    expect((await turns.next({ noInputMs: 2000 })).type).toBe("no-input");
    expect(utterances).toHaveLength(0);
    await turns.close();
  });

  it("on live audio, ends a whole request after a short silence and waits the full silence otherwise", async () => {
    const speech = await espeakPcm("check out");
    const audio = concat(silence(300), speech, silence(1500));
    /** A recognizer whose partial transcript is `said`; "check out" is a whole request, "check" is not. */
    const recognizer = (said: string): Recognizer => ({
      name: "fake", locale: "en",
      begin: () => ({ write: () => {}, partial: () => said, end: async () => [{ text: said, confidence: 1 }] }),
      complete: (text) => text === "check out",
      close: async () => {},
    });
    /** How far into the audio the turn ended (ms of audio read when it came back). */
    const endedAfter = async (said: string, realtime: boolean) => {
      let read = 0;
      const source = arraySource(audio);
      const counted = { ...source, realtime, chunks: async function* () { for await (const c of source.chunks()) { read += c.length; yield c; } } };
      const turns = new StreamingTurns(counted, recognizer(said));
      const t = await turns.next();
      await turns.close();
      if (t.type !== "utterance") throw new Error(t.type);
      return { readMs: read / 16, speechEndMs: t.endMs };
    };
    const whole = await endedAfter("check out", true);
    const partial = await endedAfter("check", true);
    const replayed = await endedAfter("check out", false);
    expect(whole.readMs - whole.speechEndMs).toBeLessThan(400);
    expect(partial.readMs - partial.speechEndMs).toBeGreaterThanOrEqual(600);
    expect(replayed.readMs - replayed.speechEndMs).toBeGreaterThanOrEqual(600); // replays are not timing-dependent
  });

  describe.skipIf(!!pocketsphinxTestSkip())("with a wake word (pocketsphinx keyword spotting)", () => {
    it("ignores speech until the word, and the next turn is what follows it, without the word", async () => {
      const audio = concat(silence(500), await espeakPcm("check out"), silence(1500), await espeakPcm("computer"), silence(700), await espeakPcm("add two packs of coffee to my cart"), silence(1200));
      const { recognizer, utterances } = recordingRecognizer();
      const spotter = createWakeWordSpotter();
      const turns = new StreamingTurns(arraySource(audio), recognizer);
      try {
        expect(await turns.wake((chunk) => spotter.write(chunk).length > 0)).toBe(true);
        expect(utterances).toHaveLength(0); // "check out" before the word never reached the recognizer
        const turn = await turns.next();
        if (turn.type !== "utterance") throw new Error(`expected an utterance, got ${turn.type}`);
        // The turn is the command (about 2 s), not the word (about 0.6 s) nor both.
        const command = (await espeakPcm("add two packs of coffee to my cart")).length;
        expect(turn.pcm.length).toBeGreaterThan(command * 0.9);
        expect(turn.pcm.length).toBeLessThan(command + 16_000 * 0.9);
        expect((await turns.next()).type).toBe("end");
      } finally {
        await turns.close();
        await spotter.close();
      }
    }, 30_000);

    it("gives up when the audio ends without the word", async () => {
      const { recognizer, utterances } = recordingRecognizer();
      const spotter = createWakeWordSpotter();
      const turns = new StreamingTurns(arraySource(concat(silence(300), await espeakPcm("add two packs of coffee to my cart"), silence(1000))), recognizer);
      expect(await turns.wake((chunk) => spotter.write(chunk).length > 0)).toBe(false);
      expect(utterances).toHaveLength(0);
      await turns.close();
      await spotter.close();
    }, 30_000);
  });
});
