import { ADAPTATION_HINT, adaptationTools } from "./speaker-adaptation.js";
import { pocketsphinxTestSkip } from "./recognizer-contract.js";

/** Why the adaptation tests cannot run here (false: they can); with TALKCART_REQUIRE_VOICE=1 a reason is an error. */
export function adaptationTestSkip(): string | false {
  const voice = pocketsphinxTestSkip();
  if (voice) return voice;
  const { missing } = adaptationTools();
  const reason = missing.length ? `${missing.join(", ")} not found: ${ADAPTATION_HINT}` : false;
  if (reason && process.env.TALKCART_REQUIRE_VOICE === "1") throw new Error(`TALKCART_REQUIRE_VOICE=1 but ${reason}`);
  return reason;
}
