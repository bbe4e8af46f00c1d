/**
 * The Azure recognizer through the real Speech SDK against the local stand-in
 * (tests/standins/azure-speech-server.ts). Everything on 127.0.0.1; every test bounded.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { AzureSpeechStandin } from "../../tests/standins/azure-speech-server.js";
import { loadGrammar } from "../nlu/load-intents.js";
import { grammarPhrases } from "../nlu/vocabulary.js";
import { AzureSpeechError, azureLanguage, createAzureRecognizer, type AzureRecognizerOptions } from "./azure.js";
import * as sdk from "microsoft-cognitiveservices-speech-sdk";
import { azureSpeechSettings, deadline, sdkCall } from "./azure-service.js";
import { RecognizerUnavailable, type RecognitionDomain, type Recognizer } from "./types.js";

const intents = join(import.meta.dirname, "../../intents");
const en: RecognitionDomain = { locale: "en", grammar: loadGrammar(intents, "en"), catalogPhrases: ["lavazza crema", "oat milk"] };
const de: RecognitionDomain = { locale: "de", grammar: loadGrammar(intents, "de"), catalogPhrases: ["Hafermilch"] };

/** A tone: what is in it does not matter to the stand-in, only its length. */
function tone(seconds: number): Int16Array {
  return new Int16Array(Math.round(16_000 * seconds)).map((_, i) => Math.round(6000 * Math.sin(i / 7)));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Feeds `pcm` in 100 ms chunks (optionally paced), then ends the utterance; returns the result or the error and the time `end()` took. */
async function recognize(rec: Recognizer, pcm: Int16Array, paceMs = 0) {
  const u = rec.begin();
  for (let i = 0; i < pcm.length; i += 1600) {
    u.write(pcm.subarray(i, i + 1600));
    if (paceMs) await sleep(paceMs);
  }
  const t0 = performance.now();
  try {
    const result = await u.end();
    return { result, ms: performance.now() - t0, partial: u.partial() };
  } catch (error) {
    return { error: error as AzureSpeechError, ms: performance.now() - t0 };
  }
}

describe("Azure recognizer (real SDK, local stand-in)", () => {
  let standin: AzureSpeechStandin;
  const open: Recognizer[] = [];
  const make = (opts: AzureRecognizerOptions = {}, domain = en) => {
    const r = createAzureRecognizer(domain, { env: standin.env(), ...opts });
    open.push(r);
    return r;
  };

  beforeAll(async () => {
    standin = await AzureSpeechStandin.start();
  });
  beforeEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
    standin.connections.length = 0;
    standin.sttQueue.length = 0;
    standin.sttDefault = {};
    standin.rejectUpgrade = undefined;
    standin.upgrades = 0;
  });
  afterAll(async () => {
    await Promise.all(open.map((r) => r.close()));
    await standin.close();
  });

  it("returns the scripted n-best, best first, with confidences and word timings", async () => {
    standin.stt({
      partials: ["add two"],
      phrases: [
        {
          nbest: [
            { text: "add to packs of coffee", confidence: 0.42 },
            {
              text: "add two packs of coffee",
              display: "Add 2 packs of coffee.",
              confidence: 0.91,
              words: [
                { word: "add", start: 0.1, end: 0.3 },
                { word: "two", start: 0.3, end: 0.5 },
              ],
            },
          ],
        },
      ],
    });
    const rec = make();
    const pcm = tone(1);
    const u = rec.begin();
    expect(u.partial()).toBe("");
    u.write(pcm);
    await expect.poll(() => u.partial(), { timeout: 2000 }).toBe("add two");
    const hyps = await u.end();
    expect(hyps).toEqual([
      {
        text: "add two packs of coffee", // the Lexical form: numbers as words, as the grammar has them
        confidence: 0.91,
        words: [
          { word: "add", start: 0.1, end: 0.3 },
          { word: "two", start: 0.3, end: 0.5 },
        ],
      },
      { text: "add to packs of coffee", confidence: 0.42 },
    ]);
    const [conn] = standin.connections;
    expect(conn.url.pathname).toBe("/speech/recognition/conversation/cognitiveservices/v1"); // continuous mode
    expect(conn.url.searchParams.get("language")).toBe("en-US");
    expect(conn.url.searchParams.get("format")).toBe("detailed");
    expect(conn.headers["ocp-apim-subscription-key"]).toBe(standin.key);
    expect(conn.audio.equals(Buffer.from(pcm.buffer))).toBe(true); // every sample arrived, in order
  });

  it("sends the domain's phrase list (catalog, list values, numbers) in speech.context", async () => {
    const rec = make();
    await recognize(rec, tone(0.3));
    const sent = AzureSpeechStandin.phraseList(standin.connections[0].speechContexts[0]);
    expect(sent).toEqual(grammarPhrases(en.grammar, en.catalogPhrases));
    for (const p of ["lavazza crema", "oat milk", "packs", "twenty"]) expect(sent).toContain(p);
    expect(standin.connections[0].speechContexts[0].dgi.groups[0].type).toBe("Generic");
  });

  it("NoMatch -> no hypotheses", async () => {
    standin.stt({ phrases: [{ status: "NoMatch" }] });
    const r = await recognize(make(), tone(0.5));
    expect(r.result).toEqual([]);
  });

  it("silence -> no hypotheses and no partial, whatever was scripted (the stand-in, like the service, hears only speech energy)", async () => {
    standin.sttDefault = { partials: ["add"], phrases: [{ nbest: [{ text: "add coffee", confidence: 0.9 }] }] };
    const hiss = new Int16Array(16_000).map((_, i) => ((i * 7919) % 201) - 100); // faint noise, RMS ~58
    const rec = make();
    for (const quiet of [new Int16Array(16_000), hiss]) {
      const r = await recognize(rec, quiet);
      expect(r.result).toEqual([]);
      expect(r.partial).toBe("");
    }
    // The same script for audio with speech energy: the scripted answer.
    expect((await recognize(rec, tone(0.5))).result).toEqual([{ text: "add coffee", confidence: 0.9 }]);
    expect(standin.connections.map((c) => c.audio.length)).toEqual([32_000, 32_000, 16_000]);
  });

  it("two utterances in a row, each with its own answer", async () => {
    standin.stt({ phrases: [{ nbest: [{ text: "add coffee", confidence: 0.8 }] }] }, { phrases: [{ nbest: [{ text: "checkout", confidence: 0.7 }] }] });
    const rec = make();
    const first = await recognize(rec, tone(0.5));
    const second = await recognize(rec, tone(0.4));
    expect(first.result).toEqual([{ text: "add coffee", confidence: 0.8 }]);
    expect(second.result).toEqual([{ text: "checkout", confidence: 0.7 }]);
    expect(standin.connections.map((c) => c.audio.length)).toEqual([16_000, 12_800]);
  });

  it("joins the phrases of an utterance the service split at a pause", async () => {
    standin.stt({
      phrases: [
        { nbest: [{ text: "add coffee", confidence: 0.9 }, { text: "add toffee", confidence: 0.5 }] },
        { nbest: [{ text: "and milk", confidence: 0.8 }] },
      ],
    });
    const r = await recognize(make(), tone(1));
    expect(r.result?.map((h) => h.text)).toEqual(["add coffee and milk", "add toffee and milk"]);
    expect(r.result?.[0].confidence).toBeCloseTo(0.72);
  });

  it("asks for de-DE for German, through a full AZURE_SPEECH_ENDPOINT as well", async () => {
    standin.stt({ phrases: [{ nbest: [{ text: "zwei packungen kaffee", confidence: 0.88 }] }] });
    const endpoint = `ws://127.0.0.1:${standin.port}/speech/recognition/conversation/cognitiveservices/v1`;
    const rec = make({ env: { AZURE_SPEECH_KEY: standin.key, AZURE_SPEECH_ENDPOINT: endpoint } }, de);
    expect(rec.locale).toBe("de");
    const r = await recognize(rec, tone(0.5));
    expect(r.result).toEqual([{ text: "zwei packungen kaffee", confidence: 0.88 }]);
    expect(standin.connections[0].url.searchParams.get("language")).toBe("de-DE");
    expect(AzureSpeechStandin.phraseList(standin.connections[0].speechContexts[0])).toContain("Hafermilch");
  });

  it("401 -> AzureSpeechError 'auth' at once, not a hang", async () => {
    standin.rejectUpgrade = 401;
    const r = await recognize(make(), tone(0.5));
    expect(r.error).toBeInstanceOf(AzureSpeechError);
    expect(r.error?.kind).toBe("auth");
    expect(r.error?.retryable).toBe(false);
    expect(r.error?.message).toMatch(/AZURE_SPEECH_KEY/);
    expect(r.ms).toBeLessThan(2000);
    expect(standin.upgrades).toBeLessThanOrEqual(5); // the SDK's few quick attempts, then it gives up
  });

  it("429 at the upgrade -> 'throttled' (retryable)", async () => {
    standin.rejectUpgrade = 429;
    const r = await recognize(make(), tone(0.3));
    expect(r.error?.kind).toBe("throttled");
    expect(r.error?.retryable).toBe(true);
  });

  it("a wrong key is refused the same way", async () => {
    const r = await recognize(make({ env: standin.env({ AZURE_SPEECH_KEY: "wrong" }) }), tone(0.3));
    expect(r.error?.kind).toBe("auth");
  });

  it("connection dropped (1011) while audio still flows: the SDK reconnects, replays, and the answer comes", async () => {
    standin.stt({ drop: { code: 1011, afterBytes: 8000 } }, { phrases: [{ nbest: [{ text: "recovered", confidence: 0.8 }] }] });
    const pcm = tone(1);
    const r = await recognize(make(), pcm, 30);
    expect(r.result).toEqual([{ text: "recovered", confidence: 0.8 }]);
    expect(standin.connections).toHaveLength(2);
    expect(standin.connections[0].closedWith).toBe(1011);
    expect(standin.connections[1].audio.equals(Buffer.from(pcm.buffer))).toBe(true); // replayed from the start
  });

  it("connection dropped (1011) after the audio ended -> 'connection' error after the reconnect grace, well within the deadline", async () => {
    // Measured: the SDK reconnects but resends only the RIFF header, so without the grace this waits for the deadline.
    standin.stt({ drop: { code: 1011, afterBytes: "end" } }, { delayMs: 60_000 });
    const r = await recognize(make({ reconnectGraceMs: 500, resultTimeoutMs: 8000 }), tone(0.5));
    expect(r.error?.kind).toBe("connection");
    expect(r.error?.retryable).toBe(true);
    expect(r.ms).toBeLessThan(2000);
  });

  it("1011 on every connection -> 'connection' error once the SDK's retries are spent", async () => {
    standin.sttDefault = { drop: { code: 1011 } };
    const r = await recognize(make(), tone(0.5));
    expect(r.error?.kind).toBe("connection");
    expect(r.ms).toBeLessThan(3000);
  });

  it("close 1007 mid-stream -> 'bad-request' error at once", async () => {
    standin.stt({ drop: { code: 1007, reason: "invalid audio" } });
    const r = await recognize(make(), tone(0.5));
    expect(r.error?.kind).toBe("bad-request");
    expect(r.error?.message).toMatch(/invalid audio/);
    expect(r.ms).toBeLessThan(1000);
  });

  it("RecognitionStatus Error -> 'service' error", async () => {
    standin.stt({ phrases: [{ status: "Error" }] });
    const r = await recognize(make(), tone(0.3));
    expect(r.error?.kind).toBe("service");
  });

  it("no answer -> 'timeout' error at the deadline", async () => {
    standin.stt({ delayMs: 20_000 });
    const r = await recognize(make({ resultTimeoutMs: 1000 }), tone(0.3));
    expect(r.error?.kind).toBe("timeout");
    expect(r.ms).toBeGreaterThan(900);
    expect(r.ms).toBeLessThan(2000);
  });

  it("nothing listening -> 'connection' error, quickly", async () => {
    const gone = await AzureSpeechStandin.start();
    const env = gone.env();
    await gone.close();
    const r = await recognize(make({ env }), tone(0.3));
    expect(r.error?.kind).toBe("connection");
    expect(r.ms).toBeLessThan(3000);
  });

  it("sends replayed audio at full speed (SPEECH-TransmitLengthBeforThrottleMs), not 2x real time after 5 s", async () => {
    standin.stt({ phrases: [{ nbest: [{ text: "long", confidence: 0.9 }] }] });
    const pcm = tone(20); // the SDK's default pacing would take > 7 s for the 15 s after the first 5
    const r = await recognize(make(), pcm);
    expect(r.result).toEqual([{ text: "long", confidence: 0.9 }]);
    expect(standin.connections[0].audio.length).toBe(pcm.byteLength);
    expect(r.ms).toBeLessThan(3000);
  });

  it("the stand-in also serves the interactive path (recognizeOnceAsync, as other clients use it)", async () => {
    standin.stt({ phrases: [{ nbest: [{ text: "checkout", confidence: 0.6 }] }] });
    const config = sdk.SpeechConfig.fromHost(new URL(standin.host), standin.key);
    config.outputFormat = sdk.OutputFormat.Detailed;
    const stream = sdk.AudioInputStream.createPushStream(sdk.AudioStreamFormat.getWaveFormatPCM(16_000, 16, 1));
    const r = new sdk.SpeechRecognizer(config, sdk.AudioConfig.fromStreamInput(stream));
    stream.write(tone(0.3).buffer as ArrayBuffer);
    stream.close();
    const result = await deadline(sdkCall<sdk.SpeechRecognitionResult>((ok, err) => r.recognizeOnceAsync(ok, err)), 5000, "recognizeOnce");
    r.close();
    expect(result.reason).toBe(sdk.ResultReason.RecognizedSpeech);
    expect(JSON.parse(result.json).NBest[0]).toMatchObject({ Lexical: "checkout", Confidence: 0.6 });
    expect(standin.connections[0].url.pathname).toBe("/speech/recognition/interactive/cognitiveservices/v1");
  });

  it("one utterance at a time; close() ends an open one without hanging", async () => {
    standin.stt({ delayMs: 20_000 });
    const rec = make();
    const u = rec.begin();
    u.write(tone(0.2));
    expect(() => rec.begin()).toThrow(/already open/);
    const t0 = performance.now();
    await rec.close();
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(() => rec.begin()).toThrow(/closed/);
  });
});

describe("Azure settings", () => {
  it("a missing key or region -> RecognizerUnavailable naming the variables", () => {
    const noKey = () => createAzureRecognizer(en, { env: { AZURE_SPEECH_REGION: "westeurope" } });
    expect(noKey).toThrow(RecognizerUnavailable);
    expect(noKey).toThrow(/AZURE_SPEECH_KEY.*AZURE_SPEECH_REGION/);
    expect(() => createAzureRecognizer(en, { env: { AZURE_SPEECH_KEY: "k" } })).toThrow(/AZURE_SPEECH_REGION is not set/);
    expect(() => createAzureRecognizer(en, { env: { AZURE_SPEECH_KEY: "k", AZURE_SPEECH_ENDPOINT: "not a url" } })).toThrow(RecognizerUnavailable);
  });

  it("maps locales and reads region, endpoint and host", () => {
    expect(azureLanguage("en")).toBe("en-US");
    expect(azureLanguage("de")).toBe("de-DE");
    expect(azureLanguage("en-GB")).toBe("en-GB");
    expect(azureSpeechSettings({ AZURE_SPEECH_KEY: "k", AZURE_SPEECH_REGION: "westeurope" })).toEqual({ key: "k", region: "westeurope" });
    // An endpoint without a path would make the SDK fetch a redirect first: it is used as a host.
    expect(azureSpeechSettings({ AZURE_SPEECH_KEY: "k", AZURE_SPEECH_ENDPOINT: "wss://example.test" })).toMatchObject({ host: new URL("wss://example.test") });
    const full = "wss://example.test/speech/recognition/conversation/cognitiveservices/v1";
    expect(azureSpeechSettings({ AZURE_SPEECH_KEY: "k", AZURE_SPEECH_ENDPOINT: full })).toMatchObject({ endpoint: new URL(full) });
  });

  it("caps the phrase list", () => {
    const rec = createAzureRecognizer(en, { env: { AZURE_SPEECH_KEY: "k", AZURE_SPEECH_REGION: "westeurope" }, maxPhrases: 10 });
    expect(rec.phrases).toHaveLength(10);
    expect(rec.phrases.slice(0, 2)).toEqual(["lavazza crema", "oat milk"]); // catalog names first
  });
});
