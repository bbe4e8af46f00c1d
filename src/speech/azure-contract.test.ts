/**
 * The shared recognizer contract for the Azure recognizer: the real Speech SDK against the local
 * stand-in (tests/standins/azure-speech-server.ts), everything on 127.0.0.1.
 *
 * The stand-in cannot recognize words, so it answers speech with a scripted detailed n-best; what
 * it does decide itself, like the service, is whether there was speech at all (energy of the PCM
 * it received): 1 s of silence and an utterance without audio get InitialSilenceTimeout.
 */
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { AzureSpeechStandin, type SttScript } from "../../tests/standins/azure-speech-server.js";
import { loadGrammar } from "../nlu/load-intents.js";
import { createAzureRecognizer } from "./azure.js";
import { canRenderSpeech, recognizerContract, renderSpeech } from "./recognizer-contract.js";
import type { RecognitionDomain } from "./types.js";

const TEXT = "add two packs of coffee to my cart";
const en: RecognitionDomain = { locale: "en", grammar: loadGrammar(join(import.meta.dirname, "../../intents"), "en"), catalogPhrases: ["lavazza crema"] };

/**
 * What the service answers for the spoken command, as it sends it: NBest best first, a repeated
 * Lexical form that differs only in Display (the recognizer must merge it), and word times of the
 * best reading spread over the audio.
 */
function answer(seconds: number): SttScript {
  const words = TEXT.split(" ");
  const step = (seconds - 0.2) / words.length;
  return {
    partials: ["add two", "add two packs of"],
    phrases: [
      {
        nbest: [
          { text: TEXT, display: "Add 2 packs of coffee to my cart.", confidence: 0.93, words: words.map((word, i) => ({ word, start: 0.1 + i * step, end: 0.1 + (i + 1) * step })) },
          { text: TEXT, display: "Add two packs of coffee to my cart.", confidence: 0.9 },
          { text: "add two packs of toffee to my cart", confidence: 0.61 },
          { text: "add to packs of coffee to my cart", confidence: 0.55 },
        ],
      },
    ],
  };
}

let standin: AzureSpeechStandin;
beforeAll(async () => {
  standin = await AzureSpeechStandin.start();
});
afterAll(async () => {
  await standin?.close();
});

const speech = () => renderSpeech(TEXT);

recognizerContract(
  "azure (real SDK, local stand-in)",
  () => {
    standin.sttDefault = answer(speech().length / 16_000); // every turn with speech gets this answer
    return createAzureRecognizer(en, { env: standin.env() });
  },
  { speech, skip: canRenderSpeech() ? false : "espeak-ng or sox not installed", timeout: 20_000 },
);
