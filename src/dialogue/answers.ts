import { chooseHypothesis, type Reading } from "../nlu/choose-hypothesis.js";
import type { IntentMatcher, Parse } from "../nlu/matcher.js";

/**
 * The intents that answer each question the dialogue asks, by dialogue state, plus the ones that
 * work at any question (cancel, stop, help, repeat). A recognizer may listen for just these while
 * the question is open (a PIN at the PIN prompt, "yes" or "no" before the order is placed): the
 * machine itself accepts any command in any state, so typed input and engines without grammars
 * lose nothing.
 */
const ALWAYS = ["Cancel", "Stop", "Help", "Repeat"];

export const ANSWERS: Readonly<Record<string, readonly string[]>> = {
  choosing: ["SelectOption", "SetQuantity", "No", ...ALWAYS],
  askingQuantity: ["SetQuantity", "No", ...ALWAYS],
  // "yes, add it" (AddToCart of the offered product) accepts an offer too.
  offeringAlternative: ["Yes", "No", "AddToCart", ...ALWAYS],
  confirmingCheckout: ["Yes", "No", ...ALWAYS],
  confirmingClear: ["Yes", "No", ...ALWAYS],
  askingPin: ["ProvidePin", "No", ...ALWAYS],
};

/** Questions whose answer is a secret: nothing but their answers is listened for (see RecognitionContext.exclusive). */
export const EXCLUSIVE: ReadonlySet<string> = new Set(["askingPin"]);

/** The answers expected in a dialogue state (undefined: no question is open). */
export function expectedAnswers(state: string): readonly string[] | undefined {
  return ANSWERS[state];
}

/** The answer sets of the secret questions (EXCLUSIVE), which a recognizer must listen for apart. */
export function exclusiveAnswerSets(): string[][] {
  return [...EXCLUSIVE].map((state) => [...ANSWERS[state]]);
}

/** Every distinct answer set, for a recognizer to prepare. */
export function answerSets(): string[][] {
  const seen = new Map<string, string[]>();
  for (const set of Object.values(ANSWERS)) seen.set([...set].sort().join(" "), [...set]);
  return [...seen.values()];
}

/**
 * Requests that take something away from the shopper: a recognizer reading of one of these must
 * be at least this sure, else the turn counts as not understood ("say that again"). A TV in the
 * background saying "set a timer" must not empty a cart.
 */
export const RISKY: Readonly<Record<string, number>> = { RemoveFromCart: 0.5, ClearCart: 0.5 };

/** Answers that take something away where they are given: "yes" to "shall I empty your cart?". */
export const RISKY_ANSWERS: Readonly<Record<string, Readonly<Record<string, number>>>> = { confirmingClear: { Yes: 0.5 } };

/** How sure a reading of this intent must be in this dialogue state (undefined: any reading will do). */
export function sureEnough(intent: string, state: string): number | undefined {
  return RISKY_ANSWERS[state]?.[intent] ?? RISKY[intent];
}

/**
 * What the dialogue takes from a spoken turn in a state: the reading that parses best, with its
 * parse, or no parse when the recognizer is not sure enough for what that request would take away.
 * Null when there was no reading at all.
 */
export function heardIn<T extends Reading>(matcher: IntentMatcher, readings: T[], state: string): { reading: T; parse: Parse | null } | null {
  const chosen = chooseHypothesis(matcher, readings);
  if (!chosen?.parse) return chosen;
  const needed = sureEnough(chosen.parse.intent, state);
  return needed !== undefined && chosen.reading.confidence < needed ? { reading: chosen.reading, parse: null } : chosen;
}
