import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AzureSpeechStandin } from "../../tests/standins/azure-speech-server.js";
import { STAND_IN_MS } from "../speech/fallback.js";
import { chosenVoice, openSynthesizer } from "./synthesizers.js";

describe("reply voices", () => {
  let azure: AzureSpeechStandin;
  const saved = { ...process.env };
  beforeAll(async () => {
    azure = await AzureSpeechStandin.start();
    Object.assign(process.env, azure.env());
  });
  afterAll(async () => {
    for (const k of ["AZURE_SPEECH_KEY", "AZURE_SPEECH_HOST"]) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    await azure.close();
  });

  it("the voice asked for: --tts, else TALKCART_TTS, else espeak", () => {
    const env = process.env.TALKCART_TTS;
    delete process.env.TALKCART_TTS;
    expect(chosenVoice()).toBe("espeak");
    process.env.TALKCART_TTS = "azure";
    expect(chosenVoice()).toBe("azure");
    expect(chosenVoice("espeak")).toBe("espeak");
    if (env === undefined) delete process.env.TALKCART_TTS;
    else process.env.TALKCART_TTS = env;
  });

  it("after Azure fails, espeak-ng speaks the replies for STAND_IN_MS without asking Azure again, then Azure is tried again", async () => {
    let now = 0;
    const failures: string[] = [];
    const voice = await openSynthesizer("azure", (e) => failures.push(e.message), () => now);
    try {
      azure.rejectUpgrade = 401;
      const first = await voice.synthesize("One latte.", "en");
      expect(first.length).toBeGreaterThan(8000); // espeak-ng's reading
      const tried = azure.upgrades;
      now = STAND_IN_MS - 1;
      await voice.synthesize("Anything else?", "en");
      expect(azure.upgrades).toBe(tried); // the service that refused was not asked again
      expect(failures).toHaveLength(1);
      azure.rejectUpgrade = undefined;
      azure.tts({ pcm: Buffer.from(new Int16Array(1600).fill(77).buffer) });
      now = STAND_IN_MS;
      const back = await voice.synthesize("Anything else?", "en");
      expect([back.length, back[0]]).toEqual([1600, 77]); // Azure's audio again
    } finally {
      await voice.close();
    }
  }, 60_000);
});
