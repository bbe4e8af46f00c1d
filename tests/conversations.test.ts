import { afterAll, describe, it } from "vitest";
import { cleanupShops, freshDemoShop, sessionFor } from "./helpers/demo-shop.js";
import { conversationFiles, expectTurn, readConversation } from "./helpers/conversation.js";

afterAll(cleanupShops);

describe.each(conversationFiles())("%s", (file) => {
  const conv = readConversation(file);
  it(conv.name, async () => {
    const shop = await freshDemoShop();
    const session = sessionFor(shop, conv.locale);
    const ordersAtStart = (await shop.orders("demo", 1000)).length;
    try {
      for (const [i, turn] of conv.turns.entries()) {
        const t = await session.turn(turn.you);
        await expectTurn(shop, turn, t, `${file} turn ${i + 1} "${turn.you}" (intent ${t.intent}, ${JSON.stringify(t.slots)})`, ordersAtStart);
      }
    } finally {
      session.stop();
      await shop.close();
    }
  });
});
