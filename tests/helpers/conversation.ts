import { expect } from "vitest";
import type { TurnTrace } from "../../src/dialogue/session.js";
import { turnMismatch, type ConversationTurn } from "../../src/fixtures/conversations.js";
import type { Shop } from "../../src/shop/types.js";

export { conversationFiles, readConversation } from "../../src/fixtures/conversations.js";

/** Asserts one turn's outcome: the reply, the dialogue state, the cart, the orders and stock. */
export async function expectTurn(shop: Shop, turn: ConversationTurn, t: Pick<TurnTrace, "reply" | "stateAfter" | "ended">, where: string, ordersAtStart: number) {
  expect(await turnMismatch(shop, "demo", turn, t, ordersAtStart), where).toBeNull();
}
