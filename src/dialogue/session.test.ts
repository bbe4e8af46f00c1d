import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SqlShop } from "../shop/sql-shop.js";
import type { Session, TurnTrace } from "./session.js";
import { cleanupShops, freshDemoShop, sessionFor } from "../../tests/helpers/demo-shop.js";

afterAll(cleanupShops);

describe("spoken turns", () => {
  let shop: SqlShop;
  let session: Session;
  beforeEach(async () => {
    shop = await freshDemoShop();
    session = sessionFor(shop, "en");
  });
  afterEach(async () => {
    session.stop();
    await shop.close();
  });

  it("takes a size in any spelling of its unit as that variant, not as a count", async () => {
    await session.turn("add lavazza crema five hundred grammes");
    await session.turn("add barilla spaghetti one kilogram"); // not the shopper's usual: the variant itself
    const cart = (await shop.cart("demo")).lines.map((l) => [l.product.id, l.quantity]);
    expect(cart).toEqual([["lavazza-crema-500g", 1], ["barilla-spaghetti-1kg", 1]]);
    expect(session.state).toBe("ready");
  });

  it("asks which product when only a size is said, instead of adding the usual one of that size", async () => {
    for (const said of ["add three kilograms", "add five hundred grams"]) {
      const t = await session.turn(said);
      expect(t.reply).toMatch(/^Which product do you mean\?/);
    }
    expect((await shop.cart("demo")).lines).toEqual([]);
  });

  it("a turn the recognizer failed on is an apology with no shop calls of its own; a notice is in the logged reply too", async () => {
    const logged: TurnTrace[] = [];
    const logging = sessionFor(shop, "en", { onTurn: (t) => logged.push(t) });
    try {
      const added = await logging.turn("add two packs of coffee");
      expect(added.shopCalls.length).toBeGreaterThan(0);
      const failed = logging.unrecognized();
      expect(failed).toMatchObject({ input: "", intent: null, stateBefore: "ready", stateAfter: "ready", shopCalls: [], replyKey: "speech_failed" });
      const offline = await logging.hear([{ text: "what is in my cart", confidence: 1 }], "speech_offline");
      expect(offline.reply).toMatch(/^The online speech service is not answering, so I'm listening offline for now\. You have two packs/);
      expect(logged.at(-1)!.reply).toBe(offline.reply); // the turn log shows what was said
    } finally {
      logging.stop();
    }
  });

  it("takes the reading that parses best among the n-best", async () => {
    const t = await session.hear([{ text: "add to packs of coffee", confidence: 0.6 }, { text: "add two packs of coffee", confidence: 0.4 }]);
    expect(t.input).toBe("add two packs of coffee");
    expect((await shop.cart("demo")).lines.map((l) => l.quantity)).toEqual([2]);
  });

  it("does not take something away on an unsure reading, and does on a sure one", async () => {
    await session.turn("add three bananas");
    const unsure = await session.hear([{ text: "clear my cart", confidence: 0.2 }]);
    expect(unsure.intent).toBeNull();
    expect((await shop.cart("demo")).lines).toHaveLength(1);
    expect(session.expecting).toEqual({ expect: undefined, exclusive: false });
    const sure = await session.hear([{ text: "clear my cart", confidence: 0.9 }]);
    expect(sure.intent).toBe("ClearCart");
    // Emptying a cart is asked first, and the question's answers are what is listened for.
    expect((await shop.cart("demo")).lines).toHaveLength(1);
    expect(session.expecting.expect).toEqual(expect.arrayContaining(["Yes", "No"]));
    // An unsure "yes" to that question takes nothing away either.
    await session.hear([{ text: "yes", confidence: 0.2 }]);
    expect((await shop.cart("demo")).lines).toHaveLength(1);
    expect(session.state).toBe("confirmingClear");
    await session.hear([{ text: "yes", confidence: 0.9 }]);
    expect((await shop.cart("demo")).lines).toHaveLength(0);
  });

  it("says what it expects next: the answers to its open question", async () => {
    await session.turn("add two packs of coffee");
    await session.turn("check out");
    expect(session.expecting.expect).toContain("Yes");
    expect(session.expecting.exclusive).toBe(false); // "add tea" instead of yes/no is still heard
    await session.turn("yes");
    expect(session.expecting.expect).toContain("ProvidePin");
    expect(session.expecting.expect).toContain("Cancel");
    expect(session.expecting.exclusive).toBe(true); // at the PIN prompt nothing else is listened for
  });
});
