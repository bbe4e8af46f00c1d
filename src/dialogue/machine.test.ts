import { afterAll, describe, expect, it } from "vitest";
import { SimulatedClock } from "xstate";
import { cleanupShops, freshDemoShop, sessionFor } from "../../tests/helpers/demo-shop.js";
import type { Shop } from "../shop/types.js";
import type { TurnTrace } from "./session.js";

const timing = { shopTimeoutMs: 8_000, sessionTimeoutMs: 300_000 };
afterAll(cleanupShops);

/** A shop whose chosen method fails or never answers; everything else is the real demo shop. */
function breakShop(shop: Shop, method: keyof Shop, how: "fail" | "hang"): Shop {
  return new Proxy(shop, {
    get(target, prop, receiver) {
      if (prop !== method) return Reflect.get(target, prop, receiver);
      return how === "fail" ? async () => { throw new Error("connection reset by the shop"); } : () => new Promise(() => {});
    },
  });
}

/** Lets the pending invoked promise and xstate's microtasks run before the simulated clock moves. */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe("dialogue machine", () => {
  it("ends the session after the timeout without a turn, measured on a simulated clock", async () => {
    const shop = await freshDemoShop();
    const clock = new SimulatedClock();
    const session = sessionFor(shop, "en", { clock, timing });
    await session.turn("what's in my cart");
    clock.increment(299_000);
    expect(session.ended).toBe(false);
    await session.turn("help"); // a turn restarts the session timer
    clock.increment(299_000);
    expect(session.ended).toBe(false);
    clock.increment(2_000);
    expect(session.ended).toBe(true);
    const after = await session.turn("add coffee");
    expect(after.replyKey).toBe("session_ended");
    expect((await shop.cart("demo")).lines).toEqual([]);
    await shop.close();
  });

  it("apologises when the shop does not answer in time, and keeps listening", async () => {
    const shop = await freshDemoShop();
    const clock = new SimulatedClock();
    const session = sessionFor(shop, "en", { clock, timing, shopOverride: breakShop(shop, "addToCart", "hang") });
    const pending = session.turn("add two packs of coffee");
    await settle();
    clock.increment(timing.shopTimeoutMs);
    const t = await pending;
    expect(t.replyKey).toBe("shop_slow");
    expect(t.stateAfter).toBe("ready");
    expect((await session.turn("help")).replyKey).toBe("help_ready");
    await shop.close();
  });

  it("turns a failing shop into a spoken apology, not a crash", async () => {
    const shop = await freshDemoShop();
    const session = sessionFor(shop, "en", { shopOverride: breakShop(shop, "search", "fail") });
    const t = await session.turn("do you have puzzles");
    expect(t.replyKey).toBe("shop_error");
    expect(t.reply).toMatch(/not available/i);
    expect(t.shopCalls).toContainEqual(expect.objectContaining({ method: "search", ok: false }));
    await shop.close();
  });

  it("a failed order keeps the cart and places nothing", async () => {
    const shop = await freshDemoShop();
    const session = sessionFor(shop, "en", { shopOverride: breakShop(shop, "placeOrder", "fail") });
    await session.turn("add two packs of coffee");
    await session.turn("check out");
    await session.turn("yes");
    const t = await session.turn("four three two one");
    expect(t.replyKey).toBe("order_failed");
    expect((await shop.cart("demo")).lines.map((l) => [l.product.id, l.quantity])).toEqual([["lavazza-crema-1kg", 2]]);
    expect((await shop.orders("demo", 100)).filter((o) => o.status === "processing" && o.placedAt > "2026-11-25")).toHaveLength(0);
    await shop.close();
  });

  it("after a checkout timed out, 'no' asks the shop before saying nothing was ordered", async () => {
    const shop = await freshDemoShop();
    const clock = new SimulatedClock();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The order goes through, but its answer arrives only after the dialogue gave up waiting.
    const slowOrders = new Proxy(shop, {
      get(target, prop, receiver) {
        if (prop !== "placeOrder") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<Shop["placeOrder"]>) => { const o = await target.placeOrder(...args); await gate; return o; };
      },
    });
    const session = sessionFor(shop, "en", { clock, timing, shopOverride: slowOrders });
    await session.turn("add two packs of coffee");
    await session.turn("check out");
    await session.turn("yes");
    const pending = session.turn("four three two one");
    for (let i = 0; i < 100 && session.state !== "placingOrder"; i++) await settle(); // the PIN check (scrypt) runs first
    expect(session.state).toBe("placingOrder");
    clock.increment(timing.shopTimeoutMs);
    expect((await pending).replyKey).toBe("order_slow");
    const answer = await session.turn("no");
    expect(answer.replyKey).toBe("order_placed");
    expect((await shop.cart("demo")).lines).toEqual([]);
    release();
    await shop.close();
  });

  it("hides a PIN said at the wrong moment", async () => {
    const shop = await freshDemoShop();
    const traces: TurnTrace[] = [];
    const session = sessionFor(shop, "en", { onTurn: (t) => traces.push(t) });
    await session.turn("add coffee");
    await session.turn("check out");
    await session.turn("yes and the pin is four three two one");
    await session.turn("add 12 bananas");
    await session.turn("where is order one zero four two");
    expect(traces[2].input).toBe("yes and the pin is * * * *");
    expect(traces[3].input).toBe("add 12 bananas");
    // An order number is no PIN: shown, as it is in the slots; another reading with other digits is hidden.
    expect(traces[4].input).toBe("where is order one zero four two");
    expect(traces[4].slots).toEqual({ order: 1042 });
    expect(session.redactReading("where is order one zero four two", traces[4])).toBe("where is order one zero four two");
    expect(session.redactReading("my pin is four three two one", traces[4])).toBe("my pin is * * * *");
    // In a PIN turn nothing the input hides shows through another reading, homophones included.
    expect(session.redactReading("yes and the pin is for three to one", traces[2])).toBe("yes and the pin is * * * *");
    await shop.close();
  });

  it("reprompts on silence, escalating, then ends", async () => {
    const shop = await freshDemoShop();
    const session = sessionFor(shop, "en");
    await session.turn("check out"); // empty cart: stays ready
    await session.turn("add coffee");
    await session.turn("check out");
    expect(session.state).toBe("confirmingCheckout");
    const first = await session.noInput();
    expect(first.replyKey).toBe("reprompt_confirm");
    expect((await session.noInput()).replyKey).toBe("no_input_2");
    const last = await session.noInput();
    expect(last.replyKey).toBe("goodbye_silent");
    expect(last.ended).toBe(true);
    await shop.close();
  });

  it("never lets PIN digits into a trace", async () => {
    const shop = await freshDemoShop();
    const traces: TurnTrace[] = [];
    const session = sessionFor(shop, "en", { onTurn: (t) => traces.push(t) });
    await session.turn("add coffee");
    await session.turn("check out");
    await session.turn("yes");
    await session.turn("my pin is one two three four");
    await session.turn("4 3 2 1");
    await session.turn("add tea");
    await session.turn("check out");
    await session.turn("yes");
    await session.turn("where is order four three two one"); // digits at the PIN prompt, read as something else
    const logged = JSON.stringify(traces.map(({ reply, ...t }) => t)); // (a reply says what the dialogue says aloud)
    expect(logged).not.toMatch(/one two three four|1 ?2 ?3 ?4|4 ?3 ?2 ?1|four three two one/);
    expect(traces[3].input).toBe("my pin is * * * *");
    expect(traces[3].slots.pin).toBe("****");
    expect(traces[4].replyKey).toBe("order_placed");
    expect(traces[8].stateBefore).toBe("askingPin");
    expect(traces[8].slots).toEqual({ order: "*" });
    await shop.close();
  });
});
