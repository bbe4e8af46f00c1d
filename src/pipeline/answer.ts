import type { Session, TurnTrace } from "../dialogue/session.js";
import type { HeardTurn } from "./streaming-turns.js";

/**
 * What the dialogue answers to a heard turn: silence reprompts, speech the recognizer failed on
 * gets an apology (the dialogue stays where it was), and a turn another engine had to recognize
 * says so first, once per switch, so the person knows why answers may be slower or worse.
 */
export async function answer(session: Session, heard: Exclude<HeardTurn, { type: "end" }>): Promise<TurnTrace> {
  if (heard.type === "no-input") return session.noInput();
  if (heard.type === "failed") return session.unrecognized();
  return session.hear(heard.alternatives, heard.recoveredFrom ? "speech_offline" : undefined);
}
