import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANSWERS } from "../dialogue/answers.js";
import { loadGrammar } from "../nlu/load-intents.js";
import { domainFor } from "./engines.js";
import { catalogPhrasesOf } from "./catalog-phrases.js";
import { createPocketsphinxRecognizer, type PocketsphinxRecognizer } from "./pocketsphinx.js";
import { loadPocketsphinx, logFile } from "./pocketsphinx-native.js";
import { COMMANDS, pocketsphinxTestSkip, recognize, recognizerContract, renderSpeech } from "./recognizer-contract.js";
import { RecognizerUnavailable, type Hypothesis, type RecognitionDomain } from "./types.js";

const grammar = loadGrammar("intents", "en");
const catalog = JSON.parse(readFileSync("src/shop/seed/catalog.json", "utf8"));
const domain: RecognitionDomain = domainFor(grammar, catalogPhrasesOf(catalog, "en")); // with the dialogue's answer sets

const skip = pocketsphinxTestSkip();


describe.skipIf(!!skip)(`pocketsphinx recognizer${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let rec: PocketsphinxRecognizer;
  const results = new Map<string, Hypothesis[]>();

  beforeAll(async () => {
    rec = await createPocketsphinxRecognizer({ domain });
  }, 60_000);
  afterAll(async () => {
    await rec?.close();
  });

  it("loads the whole English grammar with the catalog, few words left out", () => {
    expect(rec.grammar.mode).toBe("fsg"); // too large for sphinxbase's JSGF inlining
    expect(rec.grammar.alternatives).toBe("none"); // the n-gram second opinion costs 100 MB and gained nothing on the fixtures
    expect(rec.grammar.words).toBeGreaterThan(1000);
    expect(rec.grammar.missing.length).toBeLessThan(10);
    expect(rec.missingWords).toEqual(rec.grammar.missing);
    console.log(`pocketsphinx grammar: ${JSON.stringify({ ...rec.grammar, added: rec.grammar.added.size })}`);
  });

  it("gets most of ten spoken commands exactly right, with alternatives, confidences and word times", async () => {
    let audio = 0;
    let wall = 0;
    let peak = 0;
    for (const text of COMMANDS) {
      const pcm = renderSpeech(text);
      const started = performance.now();
      const hyps = await recognize(rec, pcm);
      wall += performance.now() - started;
      audio += pcm.length / 16_000;
      peak = Math.max(peak, process.memoryUsage().rss);
      results.set(text, hyps);
    }
    const exact = COMMANDS.filter((c) => results.get(c)![0]?.text === c);
    for (const c of COMMANDS) console.log(`${exact.includes(c) ? "ok " : "BAD"} ${c} -> ${results.get(c)!.map((h) => `${h.text} (${h.confidence})`).join(" | ")}`);
    console.log(`pocketsphinx: ${exact.length}/${COMMANDS.length} exact, RTF ${(wall / 1000 / audio).toFixed(3)} (wall), peak RSS ${Math.round(peak / 1e6)} MB`);
    expect(exact.length).toBeGreaterThanOrEqual(8);

    for (const c of COMMANDS) {
      const hyps = results.get(c)!;
      const confidences = hyps.map((h) => h.confidence);
      expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
      expect(new Set(hyps.map((h) => h.text)).size).toBe(hyps.length);
      expect(hyps.length).toBeLessThanOrEqual(5);
    }
    // Confidence comes from the phone loop's verdict: most commands the grammar says well are sure
    // (short ones such as "the second one" fit less well and may fall below 0.5).
    const sure = COMMANDS.filter((c) => (results.get(c)![0]?.confidence ?? 0) >= 0.5);
    expect(sure.length).toBeGreaterThan(COMMANDS.length / 2);
    // Word times of the best reading: its words, in order, inside the audio.
    for (const c of exact) {
      const [best] = results.get(c)!;
      expect(best.words!.map((w) => w.word).join(" ")).toBe(c);
      const seconds = renderSpeech(c).length / 16_000;
      best.words!.forEach((w, i) => {
        expect(w.end).toBeGreaterThan(w.start);
        expect(w.end).toBeLessThanOrEqual(seconds + 0.01);
        if (i > 0) expect(w.start).toBeGreaterThanOrEqual(best.words![i - 1].end - 0.001);
      });
    }
  }, 120_000);

  it("shows a partial transcript while the audio arrives", async () => {
    const pcm = renderSpeech("remove the bananas from my cart");
    const partials: string[] = [];
    const utt = rec.begin();
    for (let i = 0; i < pcm.length; i += 1600) {
      utt.write(pcm.subarray(i, i + 1600));
      await new Promise((r) => setTimeout(r, 30)); // audio arrives over time; the decoder works meanwhile
      partials.push(utt.partial());
    }
    const hyps = await utt.end();
    expect(partials.filter(Boolean).length).toBeGreaterThan(3);
    expect(partials.at(-1)!.split(" ").length).toBeGreaterThanOrEqual(3);
    expect(hyps[0].text).toBe("remove the bananas from my cart");
  }, 60_000);

  it("hears nothing in speech the grammar cannot say", async () => {
    const hyps = await recognize(rec, renderSpeech("flibbertigibbet wobble, the weather in madagascar is balmy"));
    expect(hyps.length === 0 || hyps[0].confidence < 0.5).toBe(true);
  }, 60_000);

  it("listens for the answers to an open question: digits at the PIN prompt", async () => {
    await rec.ready();
    const pin = renderSpeech("four three two one");
    const heard = await recognize(rec, pin, 1600, undefined, { expect: ["ProvidePin", "No", "Cancel", "Stop", "Help", "Repeat"] });
    expect(heard[0]?.text).toBe("four three two one");
  }, 60_000);

  it("still hears a new request said instead of the answer to an open question", async () => {
    await rec.ready();
    // Before the order is placed only yes and no are searched apart: a request is decoded again with the whole grammar.
    const placing = { expect: [...ANSWERS.confirmingCheckout] };
    const request = await recognize(rec, renderSpeech("where is my order"), 1600, undefined, placing);
    expect(request[0]?.text).toBe("where is my order");
    const answer = await recognize(rec, renderSpeech("yes please"), 1600, undefined, placing);
    expect(answer[0]?.text).toBe("yes please");
    // Larger answer sets are decoded with the whole grammar from the start.
    const choosing = { expect: [...ANSWERS.choosing] };
    expect((await recognize(rec, renderSpeech("the second one"), 1600, undefined, choosing))[0]?.text).toBe("the second one");
    // At the PIN prompt nothing but the answers is listened for: digits must not come back as another request.
    const pinPrompt = { expect: ["ProvidePin", "No", "Cancel", "Stop", "Help", "Repeat"] };
    const open = await recognize(rec, renderSpeech("where is my order"), 1600, undefined, pinPrompt);
    expect(open[0]?.text).toBe("where is my order");
    const exclusive = await recognize(rec, renderSpeech("where is my order"), 1600, undefined, { ...pinPrompt, exclusive: true });
    expect(exclusive[0]?.text ?? "").not.toBe("where is my order");
  }, 60_000);

  it("gives small answer sets a search of their own, and lets large ones use the whole grammar's", async () => {
    await rec.ready();
    const searched = (state: string) => rec.grammar.answerSets.find((s) => s.intents.join() === ANSWERS[state].join())?.searched;
    expect(searched("askingPin")).toBe(true); // at the PIN prompt only a PIN is listened for
    expect(searched("confirmingCheckout")).toBe(true);
    // The quantity and choice answers name products: most of the grammar's size again, for nothing measurable.
    expect(searched("choosing")).toBe(false);
    expect(searched("askingQuantity")).toBe(false);
    expect(searched("offeringAlternative")).toBe(false);
    const secret = ANSWERS.askingPin.join();
    for (const s of rec.grammar.answerSets) expect(s.searched).toBe(s.intents.join() === secret || s.arcs <= rec.grammar.fsg!.arcs / 4);
  }, 60_000);

  it("always listens apart for the answers to a secret question, however large they are", async () => {
    // A grammar of few intents: the PIN answers are far more than a quarter of it.
    const few = ["ProvidePin", "No", "Cancel", "Stop", "Help", "Repeat", "Yes", "ReadCart"];
    const grammarOfFew = { ...grammar, intents: few, sentences: grammar.sentences.filter((s) => few.includes(s.intent)) };
    const small = await createPocketsphinxRecognizer({ domain: domainFor(grammarOfFew), grammarMode: "fsg" });
    try {
      // Asked before its search has loaded, the PIN prompt hears through the whole grammar and keeps only answers.
      const pinPrompt = { expect: [...ANSWERS.askingPin], exclusive: true };
      expect((await recognize(small, renderSpeech("what's in my cart"), 1600, undefined, pinPrompt)).map((h) => h.text)).toEqual([]);
      await small.ready();
      const pin = small.grammar.answerSets.find((s) => s.intents.join() === ANSWERS.askingPin.join())!;
      expect(pin.arcs).toBeGreaterThan(small.grammar.fsg!.arcs / 4);
      expect(pin.searched).toBe(true);
      const yesNo = small.grammar.answerSets.find((s) => s.intents.join() === ANSWERS.confirmingCheckout.join())!;
      expect(yesNo.searched).toBe(yesNo.arcs <= small.grammar.fsg!.arcs / 4);
    } finally {
      await small.close();
    }
  }, 60_000);

  it("leaves no grammar or dictionary file behind once the decoders have read them", async () => {
    await rec.ready();
    expect(readdirSync(dirname(logFile())).filter((f) => f !== "pocketsphinx.log")).toEqual([]);
  }, 60_000);

  it("knows a whole request from part of one, by what the open question expects", async () => {
    await rec.ready();
    const pinPrompt = { expect: ["ProvidePin", "No", "Cancel", "Stop", "Help", "Repeat"] };
    const u = rec.begin(pinPrompt);
    expect(rec.complete("four three two one")).toBe(true);
    expect(rec.complete("four")).toBe(false); // a pause after the first digit must not end the PIN
    expect(rec.complete("")).toBe(false);
    await u.end();
    // Answer sets without a search of their own know their whole answers all the same.
    const w = rec.begin({ expect: [...ANSWERS.askingQuantity] });
    expect(rec.complete("five")).toBe(true);
    expect(rec.complete("sure")).toBe(false); // a whole sentence of the grammar, but no answer to "how many?"
    await w.end();
    const v = rec.begin();
    expect(rec.complete("sure")).toBe(true);
    expect(rec.complete("four")).toBe(true); // out of a question, "four" is a whole (quantity) answer
    expect(rec.complete("add two packs of")).toBe(false);
    expect(rec.complete("add two packs of coffee")).toBe(true);
    await v.end();
  }, 60_000);

  it("refuses a second open utterance and anything after close()", async () => {
    const utt = rec.begin();
    expect(() => rec.begin()).toThrow(/already open/);
    await utt.end();
    await expect(utt.end()).rejects.toThrow(/twice/);
  }, 60_000);
});

describe.skipIf(!!skip)("pocketsphinx with an n-gram second opinion (alternatives: lm)", () => {
  it("gives several distinct readings, best first, the grammar's own first", async () => {
    const rec = await createPocketsphinxRecognizer({ domain, alternatives: "lm" });
    try {
      expect(rec.grammar.alternatives).toBe("lm");
      for (const text of ["add two packs of coffee to my cart", "what's in my cart", "clear my cart"]) {
        const hyps = await recognize(rec, renderSpeech(text));
        expect(hyps.length, text).toBeGreaterThanOrEqual(2);
        expect(new Set(hyps.map((h) => h.text)).size).toBe(hyps.length);
        expect(rec.accepts(hyps[0].text), hyps[0].text).toBe(true);
      }
    } finally {
      await rec.close();
    }
  }, 60_000);
});

describe.skipIf(!!skip)("pocketsphinx with a small grammar (JSGF text, lattice n-best)", () => {
  it("loads the JSGF through ps_set_jsgf_string and recognizes with it", async () => {
    const small: RecognitionDomain = {
      locale: "en",
      grammar: { ...grammar, intents: ["Yes", "No", "Cancel", "ReadCart"], sentences: grammar.sentences.filter((s) => ["Yes", "No", "Cancel", "ReadCart"].includes(s.intent)) },
      catalogPhrases: [],
    };
    const rec = await createPocketsphinxRecognizer({ domain: small });
    try {
      expect(rec.grammar.mode).toBe("jsgf");
      expect(rec.grammar.alternatives).toBe("lattice");
      const hyps = await recognize(rec, renderSpeech("show me my basket"));
      expect(hyps[0].text).toBe("show me my basket");
      expect(hyps.length).toBeGreaterThanOrEqual(2);
      for (const h of hyps) expect(rec.accepts(h.text)).toBe(true);
      const yes = await recognize(rec, renderSpeech("yes please"));
      expect(yes[0].text).toBe("yes please");
      await rec.close();
      expect(() => rec.begin()).toThrow(/closed/);
      await rec.close(); // twice is fine
    } finally {
      await rec.close();
    }
  }, 60_000);
});

describe("pocketsphinx errors say what to install or what went wrong", () => {
  it("a missing library", () => {
    expect(() => loadPocketsphinx("pocketsphinx", "/nonexistent/libpocketsphinx.so.3")).toThrow(RecognizerUnavailable);
    expect(() => loadPocketsphinx("pocketsphinx", "/nonexistent/libpocketsphinx.so.3")).toThrow(/apt-get install libpocketsphinx3 pocketsphinx-en-us/);
  });

  it.skipIf(!!skip)("a missing model directory", async () => {
    await expect(createPocketsphinxRecognizer({ domain, hmm: "/nonexistent/model" })).rejects.toThrow(/acoustic model directory not found: \/nonexistent\/model — apt-get install/);
    await expect(createPocketsphinxRecognizer({ domain, dict: "/nonexistent/cmudict.dict" })).rejects.toThrow(RecognizerUnavailable);
  });

  it("a locale the installed (English) model cannot hear, unless a model of its own is named", async () => {
    const de: RecognitionDomain = { locale: "de", grammar: loadGrammar("intents", "de"), catalogPhrases: [] };
    await expect(createPocketsphinxRecognizer({ domain: de })).rejects.toThrow(/only an English acoustic model .* for 'de' set TALKCART_POCKETSPHINX_MODEL/);
    // Named explicitly, the model is tried (and here is missing, which says so).
    await expect(createPocketsphinxRecognizer({ domain: de, hmm: "/nonexistent/de-model" })).rejects.toThrow(/acoustic model directory not found: \/nonexistent\/de-model/);
  });

  it.skipIf(!!skip)("a grammar pocketsphinx refuses, with pocketsphinx's reason", async () => {
    // A decoder dictionary without the grammar's words: the JSGF cannot be loaded.
    const dict = join(tmpdir(), `talkcart-test-${process.pid}.dict`);
    writeFileSync(dict, "hello HH AH L OW\n");
    const small: RecognitionDomain = { locale: "en", grammar: { ...grammar, intents: ["Yes"], sentences: grammar.sentences.filter((s) => s.intent === "Yes") }, catalogPhrases: [] };
    const attempt = createPocketsphinxRecognizer({ domain: small, flags: { "-dict": dict } });
    await expect(attempt).rejects.toThrow(RecognizerUnavailable);
    await expect(attempt).rejects.toThrow(/the en grammar did not load \(jsgf\): .*(missing|not in) .*dictionary/i);
  });
});

recognizerContract("pocketsphinx", () => createPocketsphinxRecognizer({ domain }), { skip });
