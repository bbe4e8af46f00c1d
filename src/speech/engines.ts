import { answerSets, exclusiveAnswerSets } from "../dialogue/answers.js";
import type { Grammar } from "../nlu/grammar.js";
import { RecognizerUnavailable, type RecognitionDomain, type Recognizer } from "./types.js";
import { FallbackRecognizer, type FallbackOptions } from "./fallback.js";
import { ConfigError } from "../config.js";

export const ENGINES = ["pocketsphinx", "vosk", "azure"] as const;
export type EngineName = (typeof ENGINES)[number];

/** What a person set up beyond the domain. */
export interface EngineSettings {
  /** pocketsphinx: an acoustic model adapted to the speaker's voice (`talkcart enroll`). */
  acousticModel?: string;
}

/** Each engine is loaded only when asked for: a machine without one must not pay for (or fail on) it. */
const factories: Record<EngineName, (domain: RecognitionDomain, settings: EngineSettings) => Promise<Recognizer>> = {
  pocketsphinx: async (domain, settings) => {
    const { createPocketsphinxRecognizer } = await import("./pocketsphinx.js");
    return createPocketsphinxRecognizer({ domain, hmm: settings.acousticModel });
  },
  vosk: async (domain) => {
    const { createVoskRecognizer } = await import("./vosk.js");
    return createVoskRecognizer({ locale: domain.locale, domain });
  },
  azure: async (domain) => {
    const { createAzureRecognizer } = await import("./azure.js");
    return createAzureRecognizer(domain);
  },
};

/** A recognition domain: the compiled intents, the catalog's phrases and the dialogue's answer sets. */
export function domainFor(grammar: Grammar, catalogPhrases: string[] = []): RecognitionDomain {
  return { locale: grammar.locale, grammar, catalogPhrases, contexts: answerSets(), exclusiveContexts: exclusiveAnswerSets() };
}

/**
 * The engine of that name. A name that is no engine at all is a mistake in the settings (ConfigError,
 * naming the engines there are), not an engine that cannot start: nothing falls back over a typo.
 */
export function engineNamed(name: string): EngineName {
  if (!ENGINES.includes(name as EngineName)) throw new ConfigError(`${name}: unknown engine: use one of ${ENGINES.join(", ")}`);
  return name as EngineName;
}

export async function createRecognizer(engine: EngineName, domain: RecognitionDomain, settings: EngineSettings = {}): Promise<Recognizer> {
  return factories[engineNamed(engine)](domain, settings);
}

/**
 * The engine to use when none is named: TALKCART_STT, else the first that starts for this locale
 * (offline engines first). Resolves to the recognizer and the reasons the others were passed over.
 */
export async function firstAvailableRecognizer(domain: RecognitionDomain, settings: EngineSettings = {}, env = process.env): Promise<{ recognizer: Recognizer | null; skipped: string[] }> {
  const wanted = env.TALKCART_STT as EngineName | undefined;
  return firstStarting(wanted ? [wanted] : [...ENGINES], domain, settings);
}

async function firstStarting(order: EngineName[], domain: RecognitionDomain, settings: EngineSettings): Promise<{ recognizer: Recognizer | null; skipped: string[] }> {
  const skipped: string[] = [];
  for (const engine of order) {
    try {
      return { recognizer: await createRecognizer(engine, domain, settings), skipped };
    } catch (e) {
      if (!(e instanceof RecognizerUnavailable)) throw e;
      skipped.push(e.message);
    }
  }
  return { recognizer: null, skipped };
}

/** No engine starts: each one's reason in full (for an error line), or in brief (for typed mode's one line). */
export class NoSpeechEngine extends RecognizerUnavailable {
  constructor(readonly reasons: string[]) {
    super("speech", `no speech engine is available: ${reasons.join("; ")}`);
  }

  /** "no speech engine is available (vosk: no Vosk model for 'en'; ...)": for typed mode's one line. */
  get brief(): string {
    return `no speech engine is available (${this.briefReasons})`;
  }

  /** "vosk: no Vosk model for 'en'; ...": each engine's problem without its instructions (doctor has them). */
  get briefReasons(): string {
    const brief = (reason: string) => {
      const [engine, ...problem] = reason.split(": ");
      return `${engine}: ${problem.join(": ").split(/ — |: (?=[a-z])/)[0]}`;
    };
    return this.reasons.map(brief).join("; ");
  }
}

const OFFLINE: EngineName[] = ["pocketsphinx", "vosk"];

/**
 * A cloud engine gets the first offline engine that starts as its stand-in, opened on the cloud
 * engine's first failure (see FallbackRecognizer); an offline engine is returned as it is.
 */
export function withOfflineStandIn(recognizer: Recognizer, domain: RecognitionDomain, settings: EngineSettings = {}, options: FallbackOptions = {}): Recognizer {
  if (OFFLINE.includes(recognizer.name as EngineName)) return recognizer;
  return new FallbackRecognizer(recognizer, async () => {
    const { recognizer: offline, skipped } = await firstStarting(OFFLINE, domain, settings);
    if (!offline) throw new NoSpeechEngine(skipped);
    return offline;
  }, options);
}
