import { randomUUID } from "node:crypto";
import { and, assign, fromPromise, not, setup } from "xstate";
import type { Parse } from "../nlu/matcher.js";
import type { Slots } from "../nlu/grammar.js";
import { ShopError, type ConfirmedLine, type Order, type PinCheck } from "../shop/types.js";
import type { Reply } from "../voice/reply.js";
import { handleRequest, type DialogueDeps } from "./handlers.js";
import type { Options, Outcome, Request } from "./types.js";

export interface DialogueContext {
  reply: Reply | null;
  lastReply: Reply | null;
  request?: Request;
  lastProductId?: string;
  options?: Options;
  pending?: Outcome["pending"];
  /** Created once per confirmed checkout: retries of that checkout can never place a second order. */
  checkoutKey?: string;
  /** The cart as read back at checkout: the order must match it. */
  confirmed?: ConfirmedLine[];
  /** Set once an order was sent to the shop with checkoutKey: it may have gone through even if no answer came. */
  orderAttempted?: boolean;
  /** Held only between "my PIN is ..." and the check; never logged. */
  pin?: string;
  noMatch: number;
  noInput: number;
}

export type DialogueEvent =
  | { type: "UTTERANCE"; parse: Parse | null }
  | { type: "NO_INPUT" };

export interface DialogueTiming {
  /** A shop call slower than this gets a spoken apology instead of silence. */
  shopTimeoutMs: number;
  /** No turn for this long ends the session. */
  sessionTimeoutMs: number;
}

export const DEFAULT_TIMING: DialogueTiming = { shopTimeoutMs: 8_000, sessionTimeoutMs: 5 * 60_000 };
/** Consecutive misunderstandings or silences before the assistant gives up politely. */
export const MAX_REPROMPTS = 3;

const intentIs = (...intents: string[]) => ({ event }: { event: DialogueEvent }) =>
  event.type === "UTTERANCE" && event.parse !== null && intents.includes(event.parse.intent);
const parsed = (event: DialogueEvent) => (event.type === "UTTERANCE" ? event.parse : null);
const numberSaid = (event: DialogueEvent): number | undefined => {
  const p = parsed(event);
  if (!p) return undefined;
  const n = p.intent === "SelectOption" ? p.slots.ordinal : p.intent === "SetQuantity" && !p.slots.product ? p.slots.quantity : undefined;
  return typeof n === "number" ? n : undefined;
};
const say = (key: string, vars?: Reply["vars"]) => ({ type: "say" as const, params: { key, vars } });

export function createDialogueMachine(deps: DialogueDeps, timing: DialogueTiming = DEFAULT_TIMING) {
  return setup({
    types: { context: {} as DialogueContext, events: {} as DialogueEvent },
    actors: {
      handle: fromPromise<Outcome, { request: Request; lastProductId?: string }>(({ input }) => handleRequest(deps, input.request, input.lastProductId)),
      verifyPin: fromPromise<PinCheck, { pin: string }>(({ input }) => deps.shop.verifyPin(deps.shopperId, input.pin)),
      placeOrder: fromPromise<Order, { key: string; confirmed?: ConfirmedLine[] }>(({ input }) => deps.shop.placeOrder(deps.shopperId, input.key, input.confirmed)),
      orderByKey: fromPromise<Order | null, { key: string }>(({ input }) => deps.shop.orderByKey(deps.shopperId, input.key)),
    },
    delays: {
      shopTimeout: () => timing.shopTimeoutMs,
      sessionTimeout: () => timing.sessionTimeoutMs,
    },
    guards: {
      noParse: ({ event }) => event.type === "UTTERANCE" && event.parse === null,
      tooManyMisses: ({ context }) => context.noMatch + 1 >= MAX_REPROMPTS,
      tooManySilences: ({ context }) => context.noInput + 1 >= MAX_REPROMPTS,
      isYes: intentIs("Yes"),
      // "yes, add it" / "add it" answer an offer as well as a plain yes.
      acceptsOffer: ({ event }) => {
        const p = parsed(event);
        return !!p && (p.intent === "Yes" || (p.intent === "AddToCart" && p.slots.product_ref === "last" && p.slots.product === undefined));
      },
      isNo: intentIs("No"),
      isStop: intentIs("Stop"),
      isCancel: intentIs("Cancel"),
      isHelp: intentIs("Help"),
      isRepeat: intentIs("Repeat"),
      isPin: intentIs("ProvidePin"),
      isNoOrCancel: intentIs("No", "Cancel"),
      orderAttempted: ({ context }) => !!context.orderAttempted,
      saidNumber: ({ event }) => numberSaid(event) !== undefined,
      // "how much is it?" while a list is open: it means one of the list, so ask which and keep the list.
      refersToList: ({ event }) => {
        const p = parsed(event);
        return !!p && ["ProductPrice", "AddToWishlist", "AddToCart"].includes(p.intent) && p.slots.product === undefined;
      },
      optionInRange: ({ context, event }) => {
        const n = numberSaid(event)!;
        const count = context.options?.productIds.length ?? 0;
        return n === -1 || (n >= 1 && n <= count);
      },
      saidQuantity: ({ event }) => {
        const p = parsed(event);
        return !!p && (p.intent === "SetQuantity" || p.intent === "AddToCart") && typeof p.slots.quantity === "number" && !p.slots.product;
      },
    },
    actions: {
      say: assign((_, reply: Reply) => ({ reply, lastReply: reply })),
      sayHelp: assign(({ context, self }) => {
        const reply: Reply = { key: `help_${helpTopic(self.getSnapshot().value)}` };
        void context;
        return { reply, lastReply: reply };
      }),
      sayAgain: assign({ reply: ({ context }) => context.lastReply ?? { key: "nothing_to_repeat" } }),
      countMiss: assign(({ context }) => {
        const reply: Reply = { key: `no_match_${context.noMatch + 1}` };
        return { noMatch: context.noMatch + 1, reply, lastReply: reply };
      }),
      countSilence: assign(({ context, self }) => {
        const reply: Reply = { key: context.noInput === 0 ? `reprompt_${helpTopic(self.getSnapshot().value)}` : "no_input_2" };
        return { noInput: context.noInput + 1, reply, lastReply: reply };
      }),
      heard: assign({ noMatch: 0, noInput: 0 }),
      takeRequest: assign(({ event }) => {
        const p = parsed(event)!;
        const productStart = p.spans.product?.[0];
        const wordBeforeProduct = productStart ? p.tokens[productStart - 1] : undefined;
        return { request: { intent: p.intent, slots: p.slots, wordBeforeProduct }, options: undefined, pending: undefined };
      }),
      takeOption: assign(({ context, event }) => {
        const ids = context.options!.productIds;
        const n = numberSaid(event)!;
        const productId = n === -1 ? ids[ids.length - 1] : ids[n - 1];
        const quantity = context.options!.quantity;
        const slots: Slots = quantity ? { quantity } : {};
        return { request: { intent: context.options!.purpose, slots, productId }, options: undefined };
      }),
      takePending: assign(({ context, event }) => {
        const p = context.pending!;
        const quantity = (parsed(event)?.slots.quantity as number | undefined) ?? p.quantity ?? 1;
        return { request: { intent: p.intent, slots: { quantity }, productId: p.productId }, pending: undefined };
      }),
      forgetTopic: assign({ options: undefined, pending: undefined, checkoutKey: undefined, pin: undefined, confirmed: undefined, orderAttempted: undefined }),
      sayOrderPlaced: assign((_, o: Order) => {
        const reply: Reply = { key: "order_placed", vars: { order: { reference: o.id }, total: { money: o.total } } };
        return { reply, lastReply: reply };
      }),
      applyOutcome: assign(({ context }, o: Outcome) => ({
        reply: o.reply,
        lastReply: o.reply,
        lastProductId: o.lastProductId ?? context.lastProductId,
        options: o.options,
        pending: o.pending,
        confirmed: o.confirmed,
        // Anything that may have changed the cart makes an earlier checkout key stale.
        checkoutKey: undefined,
        orderAttempted: undefined,
      })),
    },
  }).createMachine({
    id: "talkcart",
    type: "parallel",
    context: { reply: null, lastReply: null, noMatch: 0, noInput: 0 },
    states: {
      dialog: {
        initial: "ready",
        on: {
          UTTERANCE: [
            { guard: and(["noParse", "tooManyMisses"]), target: ".ended", actions: say("goodbye_confused") },
            { guard: "noParse", actions: "countMiss" },
            { guard: "isStop", target: ".ended", actions: say("goodbye") },
            { guard: "isCancel", target: ".ready", actions: ["heard", "forgetTopic", say("cancelled")] },
            { guard: "isHelp", actions: ["heard", "sayHelp"] },
            { guard: "isRepeat", actions: ["heard", "sayAgain"] },
            { target: ".working", actions: ["heard", "takeRequest"] },
          ],
          NO_INPUT: [
            { guard: "tooManySilences", target: ".ended", actions: say("goodbye_silent") },
            { actions: "countSilence" },
          ],
        },
        states: {
          ready: {},
          working: {
            tags: "busy",
            invoke: {
              src: "handle",
              input: ({ context }) => ({ request: context.request!, lastProductId: context.lastProductId }),
              // The handler's outcome names the next step; each step is a state of the same name.
              onDone: (["choosing", "askingQuantity", "offeringAlternative", "confirmingCheckout", "confirmingClear", "ready"] as const).map((step) => ({
                guard: ({ event }: { event: { output: Outcome } }) => event.output.next === step,
                target: step,
                actions: { type: "applyOutcome" as const, params: ({ event }: { event: { output: Outcome } }) => event.output },
              })),
              onError: { target: "ready", actions: say("shop_error") },
            },
            after: { shopTimeout: { target: "ready", actions: say("shop_slow") } },
          },
          choosing: {
            on: {
              UTTERANCE: [
                { guard: and(["saidNumber", "optionInRange"]), target: "working", actions: ["heard", "takeOption"] },
                { guard: and(["saidNumber", not("optionInRange")]), actions: ["heard", say("pick_in_range")] },
                {
                  guard: "refersToList",
                  actions: ["heard", assign({ options: ({ context, event }) => ({ ...context.options!, purpose: parsed(event)!.intent as Options["purpose"] }) }), say("which_product")],
                },
                { guard: "isNo", target: "ready", actions: ["heard", "forgetTopic", say("okay_anything_else")] },
              ],
            },
          },
          askingQuantity: {
            on: {
              UTTERANCE: [
                { guard: "saidQuantity", target: "working", actions: ["heard", "takePending"] },
                { guard: "isNo", target: "ready", actions: ["heard", "forgetTopic", say("okay_anything_else")] },
              ],
            },
          },
          offeringAlternative: {
            on: {
              UTTERANCE: [
                { guard: "acceptsOffer", target: "working", actions: ["heard", "takePending"] },
                { guard: "isNo", target: "ready", actions: ["heard", "forgetTopic", say("okay_anything_else")] },
              ],
            },
          },
          confirmingClear: {
            on: {
              UTTERANCE: [
                { guard: "isYes", target: "working", actions: ["heard", assign({ request: { intent: "ClearCart", slots: {}, confirmed: true } })] },
                { guard: "isNo", target: "ready", actions: ["heard", "forgetTopic", say("cart_kept")] },
              ],
            },
          },
          confirmingCheckout: {
            on: {
              UTTERANCE: [
                // After a checkout timed out, "no" must not claim nothing was ordered: ask the shop first.
                { guard: and(["isNoOrCancel", "orderAttempted"]), target: "checkingOrder", actions: "heard" },
                {
                  guard: "isYes",
                  target: "askingPin",
                  actions: ["heard", assign({ checkoutKey: ({ context }) => context.checkoutKey ?? randomUUID() }), say("ask_pin")],
                },
                { guard: "isNo", target: "ready", actions: ["heard", "forgetTopic", say("order_not_placed")] },
              ],
            },
          },
          askingPin: {
            on: {
              UTTERANCE: [
                { guard: "isPin", target: "verifyingPin", actions: ["heard", assign({ pin: ({ event }) => String(parsed(event)!.slots.pin) })] },
                { guard: "isYes", actions: ["heard", say("ask_pin")] },
                { guard: "isNo", target: "ready", actions: ["heard", "forgetTopic", say("order_not_placed")] },
              ],
            },
          },
          verifyingPin: {
            tags: "busy",
            invoke: {
              src: "verifyPin",
              input: ({ context }) => ({ pin: context.pin! }),
              onDone: [
                { guard: ({ event }) => event.output.result === "ok", target: "placingOrder", actions: assign({ pin: undefined }) },
                {
                  guard: ({ event }) => event.output.result === "wrong",
                  target: "askingPin",
                  actions: [assign({ pin: undefined }), assign(({ event }) => {
                    const triesLeft = event.output.result === "wrong" ? event.output.triesLeft : 0;
                    const reply: Reply = { key: "wrong_pin", vars: { triesLeft } };
                    return { reply, lastReply: reply };
                  })],
                },
                {
                  target: "ready",
                  actions: ["forgetTopic", assign(({ event }) => {
                    const until = event.output.result === "locked" ? event.output.until.getTime() : Date.now();
                    const reply: Reply = { key: "pin_locked", vars: { minutes: { counted: Math.max(1, Math.ceil((until - Date.now()) / 60_000)), key: "minutes" } } };
                    return { reply, lastReply: reply };
                  })],
                },
              ],
              onError: { target: "ready", actions: ["forgetTopic", say("shop_error")] },
            },
            after: { shopTimeout: { target: "ready", actions: ["forgetTopic", say("shop_slow")] } },
          },
          placingOrder: {
            tags: "busy",
            entry: assign({ orderAttempted: true }),
            invoke: {
              src: "placeOrder",
              input: ({ context }) => ({ key: context.checkoutKey!, confirmed: context.confirmed }),
              onDone: { target: "ready", actions: ["forgetTopic", { type: "sayOrderPlaced", params: ({ event }) => event.output }] },
              onError: [
                {
                  guard: ({ event }) => event.error instanceof ShopError && event.error.code === "cart-changed",
                  target: "ready",
                  actions: ["forgetTopic", say("cart_changed")],
                },
                {
                  guard: ({ event }) => event.error instanceof ShopError && event.error.code === "out-of-stock",
                  target: "ready",
                  actions: ["forgetTopic", assign(({ event }) => {
                    const detail = (event.error as ShopError).detail;
                    const reply: Reply = { key: "order_failed_stock", vars: { available: Number(detail.available) } };
                    return { reply, lastReply: reply };
                  })],
                },
                // The order transaction rolled back: nothing was charged and the cart is untouched.
                { target: "ready", actions: ["forgetTopic", say("order_failed")] },
              ],
            },
            // Keep the key: confirming again retries the same order, which the shop places at most once.
            after: { shopTimeout: { target: "confirmingCheckout", actions: say("order_slow") } },
          },
          checkingOrder: {
            tags: "busy",
            invoke: {
              src: "orderByKey",
              input: ({ context }) => ({ key: context.checkoutKey! }),
              onDone: [
                { guard: ({ event }) => event.output !== null, target: "ready", actions: ["forgetTopic", { type: "sayOrderPlaced", params: ({ event }) => event.output! }] },
                { target: "ready", actions: ["forgetTopic", say("order_not_placed")] },
              ],
              onError: { target: "ready", actions: ["forgetTopic", say("order_unknown_outcome")] },
            },
            after: { shopTimeout: { target: "ready", actions: ["forgetTopic", say("order_unknown_outcome")] } },
          },
          ended: { type: "final" },
        },
      },
      session: {
        initial: "active",
        states: {
          active: {
            on: {
              UTTERANCE: { target: "active", reenter: true },
              NO_INPUT: { target: "active", reenter: true },
            },
            after: { sessionTimeout: "timedOut" },
          },
          timedOut: { type: "final" },
        },
      },
    },
  });
}

/** Which help or reprompt fits the dialogue's current state. */
export function helpTopic(value: unknown): string {
  const dialog = (value as { dialog?: string }).dialog ?? "ready";
  switch (dialog) {
    case "choosing": return "choosing";
    case "askingQuantity": return "quantity";
    case "offeringAlternative": return "alternative";
    case "confirmingCheckout": return "confirm";
    case "confirmingClear": return "confirm_clear";
    case "askingPin": return "pin";
    default: return "ready";
  }
}

export type DialogueMachine = ReturnType<typeof createDialogueMachine>;
