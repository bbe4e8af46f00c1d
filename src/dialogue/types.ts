import type { Slots } from "../nlu/grammar.js";
import type { Reply } from "../voice/reply.js";
import type { ConfirmedLine, Locale, Shop } from "../shop/types.js";

/** A request the dialogue hands to the shop-facing handlers: an intent, its slots, and what context resolved. */
export interface Request {
  intent: string;
  slots: Slots;
  /** Set when the dialogue already knows the product (a chosen option, an accepted substitute). */
  productId?: string;
  /** The word spoken just before the product ("a", "the", "einen"): it tells one from an open amount. */
  wordBeforeProduct?: string;
  /** The shopper said yes to the question this request asked (emptying the cart). */
  confirmed?: boolean;
}

/** A list the shopper was asked to pick from, and what the pick is for. */
export interface Options {
  productIds: string[];
  purpose: "AddToCart" | "ProductPrice" | "AddToWishlist" | "RemoveFromCart" | "Reorder";
  quantity?: number;
}

/** The dialogue states a handler can lead to. */
export type Step = "ready" | "choosing" | "askingQuantity" | "offeringAlternative" | "confirmingCheckout" | "confirmingClear";

export interface Outcome {
  reply: Reply;
  next: Step;
  lastProductId?: string;
  options?: Options;
  /** For askingQuantity: the product waiting for a number. For offeringAlternative: what "yes" adds. */
  pending?: { productId: string; quantity?: number; intent: "AddToCart" | "SetQuantity" };
  /** For confirmingCheckout: the cart lines read back to the shopper, which the order must match. */
  confirmed?: ConfirmedLine[];
}

/** What the catalog knows about words (CatalogIndex implements it). */
export interface CatalogKnowledge {
  covers(productId: string, query: string, locale: Locale): boolean;
  isPlural(word: string, locale: Locale): boolean;
}

export interface HandlerDeps {
  shop: Shop;
  shopperId: string;
  locale: Locale;
  catalog: CatalogKnowledge;
}
