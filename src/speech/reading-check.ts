import type { Pcm } from "../audio/types.js";
import { NoiseFloor } from "./noise-floor.js";
import { RECOGNITION_FLAGS, SMALL_GRAMMAR_FLAGS } from "./pocketsphinx.js";
import { call, createDecoder, freeDecoder, loadPocketsphinx, logSince, logSize, withScratchFile, type Decoder, type PsLib } from "./pocketsphinx-native.js";
import { RecognizerUnavailable } from "./types.js";

const ENGINE = "pocketsphinx";

/**
 * Did the person read the sentence they were shown? Each recording is decoded with a grammar of
 * just the enrollment prompts: a recording that comes out as another prompt (or nothing) was
 * misread, cut off or drowned in noise, and would teach the model wrong sounds for those words.
 * Among a few dozen unlike sentences even a poorly fitting voice lands on the right one.
 */
export class ReadingCheck {
  private readonly lib: PsLib;
  private readonly decoder: Decoder;

  constructor(options: { hmm: string; dictionary: string; prompts: string[] }) {
    this.lib = loadPocketsphinx(ENGINE);
    const jsgf = `#JSGF V1.0;\ngrammar prompts;\npublic <prompt> = ${options.prompts.map((p) => `( ${p} )`).join(" | ")};\n`;
    this.decoder = withScratchFile("prompts.dict", options.dictionary, (dict) =>
      createDecoder(this.lib, ENGINE, { "-hmm": options.hmm, "-dict": dict, ...RECOGNITION_FLAGS, ...SMALL_GRAMMAR_FLAGS }));
    const offset = logSize();
    if (this.lib.ps_set_jsgf_string(this.decoder.ps, "prompts", jsgf) < 0 || this.lib.ps_set_search(this.decoder.ps, "prompts") < 0) {
      freeDecoder(this.lib, this.decoder);
      throw new RecognizerUnavailable(ENGINE, `the enrollment sentences did not load as a grammar: ${logSince(offset) || "no reason given"}`);
    }
  }

  /**
   * Which prompt the recording sounds like (null: none). The same recording always gets the same
   * answer: it is decoded as a whole utterance (its own cepstral mean, nothing carried over from
   * the one before) with a noise floor seeded afresh.
   */
  async heard(pcm: Pcm): Promise<string | null> {
    const ps = this.decoder.ps;
    this.lib.ps_start_stream(ps);
    this.lib.ps_start_utt(ps);
    const audio = new NoiseFloor().apply(Int16Array.from(pcm));
    await call(this.lib.ps_process_raw, ps, audio, audio.length, 0, 1);
    await call(this.lib.ps_end_utt, ps);
    const text = await call(this.lib.ps_get_hyp, ps, null);
    return text?.trim() || null;
  }

  close(): void {
    freeDecoder(this.lib, this.decoder);
  }
}
