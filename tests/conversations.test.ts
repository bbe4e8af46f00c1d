import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Locale } from "../src/shop/types.js";
import { cleanupShops, freshDemoShop, sessionFor } from "./helpers/demo-shop.js";

/**
 * Conversation tests as data (tests/conversations/*.yaml): user turns, the expected reply (a
 * case-insensitive regular expression) and the expected shop state after the turn.
 */
interface Turn {
  you: string;
  reply: string;
  state?: string;
  cart?: { product: string; quantity: number }[];
  orders_placed?: number;
  stock?: Record<string, number>;
  ended?: boolean;
}
interface Conversation { name: string; locale: Locale; turns: Turn[] }

const dir = join(import.meta.dirname, "conversations");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

afterAll(cleanupShops);

describe.each(files)("%s", (file) => {
  const conv = parseYaml(readFileSync(join(dir, file), "utf8")) as Conversation;
  it(conv.name, async () => {
    const shop = await freshDemoShop();
    const session = sessionFor(shop, conv.locale);
    const ordersAtStart = (await shop.orders("demo", 1000)).length;
    try {
      for (const [i, turn] of conv.turns.entries()) {
        const t = await session.turn(turn.you);
        const where = `${file} turn ${i + 1} "${turn.you}" (intent ${t.intent}, ${JSON.stringify(t.slots)})`;
        expect(t.reply, where).toMatch(new RegExp(turn.reply, "i"));
        if (turn.state) expect(t.stateAfter, where).toBe(turn.state);
        if (turn.ended !== undefined) expect(t.ended, where).toBe(turn.ended);
        if (turn.cart) {
          const cart = await shop.cart("demo");
          expect(cart.lines.map((l) => ({ product: l.product.id, quantity: l.quantity })), where).toEqual(turn.cart);
        }
        if (turn.orders_placed !== undefined) {
          expect((await shop.orders("demo", 1000)).length - ordersAtStart, where).toBe(turn.orders_placed);
        }
        for (const [id, stock] of Object.entries(turn.stock ?? {})) {
          expect((await shop.product(id))?.stock, `${where} stock of ${id}`).toBe(stock);
        }
      }
    } finally {
      session.stop();
      await shop.close();
    }
  });
});
