import { describe, expect, it } from "vitest";
import type { Slots } from "../nlu/grammar.js";
import type { Locale, Shop } from "../shop/types.js";
import { renderReply, type Responses } from "../voice/reply.js";
import { handleRequest } from "./handlers.js";
import { intentReply } from "./intent-reply.js";

const ORDER = "{quantity} {size} {milk} {drink}, coming up. Anything else?";
const say = (slots: Slots, locale: Locale = "en", template = ORDER) => {
  const responses = { OrderDrink: [template] };
  return renderReply(intentReply({ intent: "OrderDrink", slots }, responses)!, responses, locale, () => "");
};

/** A shop that fails the test if a domain intent touches it. */
const noShop = new Proxy({} as Shop, { get: (_, prop) => { throw new Error(`the shop was used: ${String(prop)}`); } });
const deps = (responses: Responses) => ({ shop: noShop, shopperId: "demo", locale: "en" as const, catalog: { covers: () => false, isPlural: () => false }, responses });

describe("a domain intent's reply from responses.yaml", () => {
  it("fills the template from the slots, numbers in the locale's words and list outputs without underscores", () => {
    expect(say({ quantity: 1, size: "large", milk: "oat", drink: "latte" })).toBe("One large oat latte, coming up. Anything else?");
    expect(say({ quantity: 2, size: "small", milk: "soy", drink: "flat_white", shots: 2 })).toBe("Two small soy flat white, coming up. Anything else?");
    expect(say({ quantity: 3, drink: "latte" }, "de", "{quantity} {drink}, kommt sofort.")).toBe("Drei latte, kommt sofort.");
  });

  it("leaves out optional slots that were not said: no 'undefined', no double spaces", () => {
    expect(say({ drink: "latte" })).toBe("Latte, coming up. Anything else?");
    expect(say({ quantity: 2, drink: "mocha" }, "en", "Okay: {quantity} {size} {drink} {milk}.")).toBe("Okay: two mocha.");
  });

  it("answers the intent without touching the shop, and stays ready", async () => {
    const outcome = await handleRequest(deps({ OrderDrink: [ORDER] }), { intent: "OrderDrink", slots: { drink: "latte" } });
    expect(outcome).toEqual({ reply: { key: "OrderDrink", vars: { quantity: "", size: "", milk: "", drink: "latte" } }, next: "ready" });
  });

  it("an intent with neither a handler nor a response still cannot be done", async () => {
    expect(intentReply({ intent: "OrderDrink", slots: {} }, {})).toBeUndefined();
    const outcome = await handleRequest(deps({ cannot_do: ["Sorry, I can't do that."] }), { intent: "OrderDrink", slots: { drink: "latte" } });
    expect(outcome).toEqual({ reply: { key: "cannot_do" }, next: "ready" });
  });
});
