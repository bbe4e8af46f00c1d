import { afterAll, describe, expect, it } from "vitest";
import { cleanupShops, freshDemoShop, sessionFor } from "../../tests/helpers/demo-shop.js";

afterAll(cleanupShops);

describe("spoken turns", () => {
  it("takes the reading that parses best among the n-best", async () => {
    const shop = await freshDemoShop();
    const session = sessionFor(shop, "en");
    const t = await session.hear([{ text: "add to packs of coffee", confidence: 0.6 }, { text: "add two packs of coffee", confidence: 0.4 }]);
    expect(t.input).toBe("add two packs of coffee");
    expect((await shop.cart("demo")).lines.map((l) => l.quantity)).toEqual([2]);
    session.stop();
    await shop.close();
  });

  it("does not take something away on an unsure reading, and does on a sure one", async () => {
    const shop = await freshDemoShop();
    const session = sessionFor(shop, "en");
    await session.turn("add three bananas");
    const unsure = await session.hear([{ text: "clear my cart", confidence: 0.2 }]);
    expect(unsure.intent).toBeNull();
    expect((await shop.cart("demo")).lines).toHaveLength(1);
    expect(session.expecting).toEqual({ expect: undefined, exclusive: false });
    const sure = await session.hear([{ text: "clear my cart", confidence: 0.9 }]);
    expect(sure.intent).toBe("ClearCart");
    expect((await shop.cart("demo")).lines).toHaveLength(0);
    session.stop();
    await shop.close();
  });

  it("says what it expects next: the answers to its open question", async () => {
    const shop = await freshDemoShop();
    const session = sessionFor(shop, "en");
    await session.turn("add two packs of coffee");
    await session.turn("check out");
    expect(session.expecting.expect).toContain("Yes");
    expect(session.expecting.exclusive).toBe(false); // "add tea" instead of yes/no is still heard
    await session.turn("yes");
    expect(session.expecting.expect).toContain("ProvidePin");
    expect(session.expecting.expect).toContain("Cancel");
    expect(session.expecting.exclusive).toBe(true); // at the PIN prompt nothing else is listened for
    session.stop();
    await shop.close();
  });
});
