import type { SlotValue } from "../nlu/grammar.js";
import { placeholders, type Reply, type Responses } from "../voice/reply.js";
import type { Request } from "./types.js";

/**
 * The reply to a developer's own intent, one talkcart has no handler for: the response in
 * responses.yaml whose key is the intent's name, filled from the slots the shopper said. This is
 * what lets a domain answer without code; undefined when the domain wrote no such response.
 */
export function intentReply(req: Request, responses: Responses): Reply | undefined {
  const template = responses[req.intent]?.[0];
  if (template === undefined) return undefined;
  // Every placeholder gets a value: an optional slot that was not said is left out (renderReply
  // closes the gap), rather than read as "undefined" or refused as a broken response.
  const vars = Object.fromEntries(placeholders(template).map((name) => [name, spokenSlot(req.slots[name])]));
  return { key: req.intent, vars };
}

/**
 * Numbers stay numbers, so the reply speaks them in the locale's words ("two"); list outputs are
 * identifiers ("flat_white"), said with spaces instead of underscores.
 */
function spokenSlot(value: SlotValue | undefined): string | number {
  if (value === undefined) return "";
  return typeof value === "number" ? value : value.replace(/_/g, " ");
}
