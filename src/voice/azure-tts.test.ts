/** Azure TTS through the real Speech SDK against the local stand-in; everything on 127.0.0.1. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AzureSpeechStandin } from "../../tests/standins/azure-speech-server.js";
import { AzureSpeechError, AzureSynthesizer, SynthesizerUnavailable, createAzureSynthesizer, type AzureSynthesizerOptions } from "./azure-tts.js";

function samples(n: number): Int16Array {
  return new Int16Array(n).map((_, i) => ((i * 37) % 20_000) - 10_000);
}

async function attempt(tts: AzureSynthesizer, text: string, locale = "en") {
  const t0 = performance.now();
  try {
    return { pcm: await tts.synthesize(text, locale), ms: performance.now() - t0 };
  } catch (error) {
    return { error: error as AzureSpeechError, ms: performance.now() - t0 };
  }
}

describe("Azure synthesizer (real SDK, local stand-in)", () => {
  let standin: AzureSpeechStandin;
  const open: AzureSynthesizer[] = [];
  const make = (opts: AzureSynthesizerOptions = {}) => {
    const s = createAzureSynthesizer({ env: standin.env(), ...opts });
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    standin = await AzureSpeechStandin.start();
  });
  beforeEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    standin.connections.length = 0;
    standin.ttsQueue.length = 0;
    standin.rejectUpgrade = undefined;
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
    await standin.close();
  });

  it("returns the PCM the service sent, asking for raw 16 kHz mono PCM in SSML with the locale's voice", async () => {
    const sent = samples(12_345); // odd chunking: 4096-byte frames split samples across frames
    standin.tts({ pcm: Buffer.from(sent.buffer), chunkBytes: 4095 });
    const r = await attempt(make(), "Two packs of coffee & milk <cheap>, OK?");
    expect(r.error).toBeUndefined();
    expect(r.pcm).toBeInstanceOf(Int16Array);
    expect(Array.from(r.pcm!)).toEqual(Array.from(sent));
    const [conn] = standin.connections;
    expect(conn.url.pathname).toBe("/tts/cognitiveservices/websocket/v1");
    expect(conn.ssml).toEqual([
      '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US"><voice name="en-US-JennyNeural">' +
        "Two packs of coffee &amp; milk &lt;cheap&gt;, OK?</voice></speak>",
    ]);
    const context = JSON.parse(String(conn.messages.find((m) => m.path === "synthesis.context")!.body));
    expect(context.synthesis.audio.outputFormat).toBe("raw-16khz-16bit-mono-pcm");
  });

  it("speaks German with de-DE-KatjaNeural (or a configured voice), reusing one connection", async () => {
    const tts = make();
    await tts.synthesize("Zwei Packungen Kaffee.", "de");
    await tts.synthesize("Noch etwas?", "de");
    expect(standin.connections).toHaveLength(1);
    expect(standin.connections[0].ssml.map((s) => /voice name="([^"]+)"/.exec(s)?.[1])).toEqual(["de-DE-KatjaNeural", "de-DE-KatjaNeural"]);
    expect(standin.connections[0].ssml[0]).toContain('xml:lang="de-DE"');
    await tts.synthesize("Lavazza Crema (1 kg)", "de");
    expect(standin.connections[0].ssml[2]).toContain("Lavazza Crema (ein Kilo)");
    expect(make({ voices: { "en-US": "en-US-GuyNeural" } }).voice("en")).toBe("en-US-GuyNeural");
  });

  it("401 -> AzureSpeechError 'auth' at once", async () => {
    standin.rejectUpgrade = 401;
    const r = await attempt(make(), "Hello.");
    expect(r.error).toBeInstanceOf(AzureSpeechError);
    expect(r.error?.kind).toBe("auth");
    expect(r.ms).toBeLessThan(2000);
  });

  it("a dropped connection -> 'connection' error; the next reply works again", async () => {
    standin.tts({ drop: { code: 1011 } }, { pcm: Buffer.from(samples(100).buffer) });
    const tts = make();
    const r = await attempt(tts, "Hello.");
    expect(r.error?.kind).toBe("connection");
    expect(r.ms).toBeLessThan(2000);
    expect((await tts.synthesize("Hello again.", "en")).length).toBe(100);
  });

  it("no answer -> 'timeout' error at the deadline; the next reply works again", async () => {
    standin.tts({ delayMs: 20_000 }, { pcm: Buffer.from(samples(50).buffer) });
    const tts = make({ timeoutMs: 1000 });
    const r = await attempt(tts, "Hello.");
    expect(r.error?.kind).toBe("timeout");
    expect(r.ms).toBeGreaterThan(900);
    expect(r.ms).toBeLessThan(2000);
    expect((await tts.synthesize("Hello again.", "en")).length).toBe(50);
  });

  it("a missing key -> SynthesizerUnavailable naming the variables", () => {
    expect(() => createAzureSynthesizer({ env: {} })).toThrow(SynthesizerUnavailable);
    expect(() => createAzureSynthesizer({ env: {} })).toThrow(/AZURE_SPEECH_KEY.*AZURE_SPEECH_REGION/);
  });
});
