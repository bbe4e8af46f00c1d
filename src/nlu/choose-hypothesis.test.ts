import { afterAll, describe, expect, it } from "vitest";
import { chooseHypothesis } from "./choose-hypothesis.js";
import { cleanupShops, freshDemoShop, matcherFor } from "../../tests/helpers/demo-shop.js";

afterAll(cleanupShops);

describe("choosing among n-best transcripts", () => {
  it("prefers a reading that is a whole command over a likelier one that is not", async () => {
    const shop = await freshDemoShop();
    const matcher = matcherFor("en", shop);
    const chosen = chooseHypothesis(matcher, [
      { text: "had to packs of coffee two my car", confidence: 0.6 },
      { text: "add two packs of coffee to my cart", confidence: 0.3 },
    ]);
    expect(chosen?.reading.text).toBe("add two packs of coffee to my cart");
    expect(chosen?.parse).toMatchObject({ intent: "AddToCart", slots: { quantity: 2, product: "coffee" } });
    // Among equally good parses the recognizer's confidence decides.
    expect(chooseHypothesis(matcher, [{ text: "yes", confidence: 0.2 }, { text: "yeah", confidence: 0.9 }])?.reading.text).toBe("yeah");
    expect(chooseHypothesis(matcher, [])).toBeNull();
    await shop.close();
  });
});
