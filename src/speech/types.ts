import type { Pcm } from "../audio/types.js";

/** One reading of an utterance. Confidence is 0..1 (engines that give none say 1 for the best). */
export interface Hypothesis {
  text: string;
  confidence: number;
  words?: { word: string; start: number; end: number }[]; // seconds from the start of the utterance
}

/** One utterance being recognized: audio in, partial text while it runs, n-best at the end. */
export interface Utterance {
  write(pcm: Pcm): void;
  /** The current partial transcript ("" before any). */
  partial(): string;
  /** Ends the utterance; resolves to the n-best list, best first ([] for nothing recognized). */
  end(): Promise<Hypothesis[]>;
  /** Set by end() when this engine failed and another one recognized the audio instead (src/speech/fallback.ts). */
  readonly recoveredFrom?: Error;
}

/** A speech recognizer engine with one long-lived decoder per session. */
export interface Recognizer {
  readonly name: "pocketsphinx" | "vosk" | "azure" | string;
  readonly locale: string;
  /** Begins one utterance. Only one is open at a time. */
  begin(context?: RecognitionContext): Utterance;
  /** Whether a (partial) transcript is a whole request: lets the endpointer stop listening sooner. */
  complete?(text: string): boolean;
  close(): Promise<void>;
}

/** What the dialogue expects to hear next; engines that can favour it do, the others ignore it. */
export interface RecognitionContext {
  /** Intents that answer the question just asked ("ProvidePin" at the PIN prompt). */
  expect?: readonly string[];
  /**
   * Only those answers may be heard: a poorly fitting answer is not looked up in the whole
   * grammar (at the PIN prompt, spoken digits must not come back as another request).
   */
  exclusive?: boolean;
}

/**
 * What a recognizer is biased or restricted to: built from the compiled intent grammar and the
 * catalog (`grammarWords`, `grammarPhrases` in src/nlu/vocabulary.ts).
 */
export interface RecognitionDomain {
  locale: string;
  grammar: import("../nlu/grammar.js").Grammar;
  catalogPhrases: string[];
  /** The intent sets `begin()` may be asked to expect (engines may prepare for them ahead of time). */
  contexts?: readonly (readonly string[])[];
  /** Those of `contexts` that will be asked for `exclusive`ly (a secret's answers): an engine that prepares some sets must prepare these. */
  exclusiveContexts?: readonly (readonly string[])[];
}

/** A recognizer that cannot start (missing library, model, key): one line saying what to install or set. */
export class RecognizerUnavailable extends Error {
  constructor(readonly engine: string, message: string) {
    super(`${engine}: ${message}`);
  }
}

/** An engine that started but failed on audio (a cloud service unreachable or refusing): one line, no stack. */
export class SpeechServiceError extends Error {}
