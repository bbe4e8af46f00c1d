import type { Shop, Product, Locale, Cart } from "../shop/types.js";
import { ShopError } from "../shop/types.js";
import { normalizeTerm } from "../shop/catalog-index.js";
import { tokenize } from "../nlu/text.js";
import type { Reply, Responses } from "../voice/reply.js";
import { isUnitWord, saysOnlyASize, unitsSaid } from "../voice/speech-format.js";
import type { HandlerDeps, Outcome, Request, Options } from "./types.js";
import { intentReply } from "./intent-reply.js";

/** What the dialogue runs on: the handlers' shop and catalog, and the locale's responses for intents talkcart has no handler for. */
export type DialogueDeps = HandlerDeps & { responses: Responses };

const say = (key: string, vars?: Reply["vars"]): Reply => ({ key, vars });
const done = (reply: Reply, extra: Partial<Outcome> = {}): Outcome => ({ reply, next: "ready", ...extra });

type Resolution =
  | { kind: "product"; product: Product; usual?: boolean }
  | { kind: "outcome"; outcome: Outcome };

/**
 * Finds the one product a request is about: an id the dialogue already knows, "it" (the last
 * product), or the spoken words searched in the catalog. Several matches become a question.
 */
async function resolveProduct(deps: HandlerDeps, req: Request, lastProductId: string | undefined, purpose: Options["purpose"]): Promise<Resolution> {
  const { shop, locale } = deps;
  const id = req.productId ?? (req.slots.product_ref === "last" || req.slots.product === undefined ? lastProductId : undefined);
  if (id) {
    const product = await shop.product(id);
    if (product) return { kind: "product", product };
  }
  const query = req.slots.product === undefined ? undefined : String(req.slots.product);
  // "add three kilograms": a unit names no product (it would match every 1 kg product, the usual first).
  if (!query || saysOnlyASize(tokenize(query, locale), locale)) return { kind: "outcome", outcome: done(say("which_product")) };
  let hits = await shop.search(query, locale, 12);
  if (hits.length === 0) return { kind: "outcome", outcome: done(say("not_found", { query })) };

  // The shopper's usual product among the matches settles "coffee" without a question.
  const counts = await shop.purchaseCounts(deps.shopperId);
  // Only when the words fit it: "coffee" may mean the usual Lavazza Crema, "lavazza espresso" may not.
  const usual = hits.filter((p) => (counts.get(p.id) ?? 0) >= 2 && deps.catalog.covers(p.id, query, locale))
    .sort((a, b) => counts.get(b.id)! - counts.get(a.id)!)[0];
  if (usual && purpose !== "RemoveFromCart") return { kind: "product", product: usual, usual: true };

  // If the words fully describe the products of just one family ("lavazza espresso italiano"), the looser matches are noise.
  const described = hits.filter((p) => deps.catalog.covers(p.id, query, locale));
  if (new Set(described.map((p) => p.family)).size === 1) hits = described;
  const families = [...new Set(hits.map((p) => p.family))];
  if (families.length === 1) {
    const variants = hits.filter((p) => p.family === families[0]);
    if (variants.length === 1 || variantNamed(query, variants, locale)) {
      return { kind: "product", product: variantNamed(query, variants, locale) ?? variants[0] };
    }
    const quantity = asNumber(req.slots.quantity);
    return {
      kind: "outcome",
      outcome: { reply: say("which_variant", { product: { family: variants[0] }, variants: { variants } }), next: "choosing", options: { productIds: variants.map((v) => v.id), purpose, quantity } },
    };
  }
  const choices = firstOfEachFamily(hits).slice(0, 3);
  return {
    kind: "outcome",
    outcome: {
      reply: say("which_of", { options: { products: choices, joiner: "or" }, query }),
      next: "choosing",
      options: { productIds: choices.map((p) => p.id), purpose, quantity: asNumber(req.slots.quantity) },
    },
  };
}

/** The variant the shopper named ("the 1 kg coffee", "red scarf"), if exactly one fits. */
function variantNamed(query: string, variants: Product[], locale: Locale): Product | undefined {
  const words = new Set(tokenize(query, locale).map((w) => normalizeTerm(w, locale)));
  const fits = variants.filter((v) => Object.values(v.variant).some((value) => tokenize(value, locale).every((w) => words.has(normalizeTerm(w, locale)))));
  return fits.length === 1 ? fits[0] : undefined;
}

function firstOfEachFamily(products: Product[]): Product[] {
  const seen = new Set<string>();
  return products.filter((p) => !seen.has(p.family) && seen.add(p.family));
}

function asNumber(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}

/** Words that make what follows one thing: "a banana", "the LEGO set", "einen Elefanten". */
const SINGULAR_DETERMINERS: Record<Locale, Set<string>> = {
  en: new Set(["a", "an", "the", "this", "that", "one"]),
  de: new Set(["ein", "eine", "einen", "einem", "der", "die", "das", "den", "dem", "dieses", "diesen", "diese"]),
};

/** A plural without a count ("add bananas", "füge Äpfel hinzu") leaves the quantity open: ask rather than guess. */
function quantityLeftOpen(deps: HandlerDeps, req: Request): boolean {
  if (req.slots.quantity !== undefined || req.productId || req.slots.product === undefined) return false;
  if (req.wordBeforeProduct && SINGULAR_DETERMINERS[deps.locale].has(req.wordBeforeProduct)) return false;
  const words = tokenize(String(req.slots.product), deps.locale);
  const last = words[words.length - 1] ?? "";
  if (isUnitWord(last, deps.locale)) return false; // "lavazza crema five hundred grams": a size, not a count
  if (deps.catalog.isPlural(last, deps.locale)) return true;
  return deps.locale === "en" && /[^s']s$/.test(last) && normalizeTerm(last, deps.locale) !== last;
}

async function addToCart(deps: HandlerDeps, req: Request, last?: string): Promise<Outcome> {
  const found = await resolveProduct(deps, req, last, "AddToCart");
  if (found.kind === "outcome") return found.outcome;
  const { product } = found;
  if (quantityLeftOpen(deps, req)) {
    // "How many kilos of ...?": the unit it is sold in, so the answer may name it too ("three kilos").
    return { reply: say("how_many", { product: { product }, units: unitsSaid(product, deps.locale) }), next: "askingQuantity", lastProductId: product.id, pending: { productId: product.id, intent: "AddToCart" } };
  }
  const quantity = asNumber(req.slots.quantity) ?? 1;
  if (product.stock === 0) return offerSubstitute(deps, product, quantity);
  try {
    await deps.shop.addToCart(deps.shopperId, product.id, quantity);
  } catch (e) {
    if (e instanceof ShopError && e.code === "out-of-stock") return offerAvailable(product, Number(e.detail.available), quantity);
    throw e;
  }
  return done(say(found.usual ? "added_usual" : "added", { item: { count: quantity, product }, price: { money: quantity * product.price } }), { lastProductId: product.id });
}

/** Out of stock: offer the most similar in-stock product for this shopper, and say why. */
async function offerSubstitute(deps: HandlerDeps, product: Product, quantity: number): Promise<Outcome> {
  const rec = await deps.shop.recommendSimilar(product.id, deps.shopperId);
  if (!rec) return done(say("out_of_stock", { product: { product } }), { lastProductId: product.id });
  return {
    reply: say("out_of_stock_offer", { product: { product }, alternative: { product: rec.product }, price: { money: rec.product.price }, why: { reasons: rec.reasons, product: rec.product } }),
    next: "offeringAlternative",
    lastProductId: product.id,
    pending: { productId: rec.product.id, quantity, intent: "AddToCart" },
  };
}

function offerAvailable(product: Product, available: number, requested: number): Outcome {
  if (available <= 0) return done(say("out_of_stock", { product: { product } }), { lastProductId: product.id });
  return {
    reply: say("only_available", { available, requested, product: { product } }),
    next: "offeringAlternative",
    lastProductId: product.id,
    pending: { productId: product.id, quantity: available, intent: "SetQuantity" },
  };
}

async function cartLineFor(deps: HandlerDeps, req: Request, last: string | undefined): Promise<{ cart: Cart; product?: Product; outcome?: Outcome }> {
  const cart = await deps.shop.cart(deps.shopperId);
  if (cart.lines.length === 0) return { cart, outcome: done(say("cart_empty")) };
  const inCart = (id: string | undefined) => cart.lines.find((l) => l.product.id === id)?.product;
  if (req.productId) return { cart, product: inCart(req.productId) };
  if (req.slots.product_ref === "last" || req.slots.product === undefined) {
    const product = inCart(last) ?? (cart.lines.length === 1 ? cart.lines[0].product : undefined);
    return product ? { cart, product } : { cart, outcome: done(say("which_product")) };
  }
  // Search the cart, not the whole catalog: "remove the coffee" means the coffee in the cart.
  const hits = await deps.shop.search(String(req.slots.product), deps.locale, 30);
  const matching = cart.lines.filter((l) => hits.some((h) => h.id === l.product.id)).map((l) => l.product);
  if (matching.length === 1) return { cart, product: matching[0] };
  if (matching.length > 1) {
    return { cart, outcome: { reply: say("which_of", { options: { products: matching, joiner: "or" }, query: String(req.slots.product) }), next: "choosing", options: { productIds: matching.map((p) => p.id), purpose: "RemoveFromCart", quantity: asNumber(req.slots.quantity) } } };
  }
  return { cart, outcome: done(say("not_in_cart", { query: String(req.slots.product) })) };
}

async function removeFromCart(deps: HandlerDeps, req: Request, last?: string): Promise<Outcome> {
  const { cart, product, outcome } = await cartLineFor(deps, req, last);
  if (outcome) return outcome;
  if (!product) return done(say("not_in_cart", { query: String(req.slots.product ?? "") }));
  const line = cart.lines.find((l) => l.product.id === product.id)!;
  const fewer = asNumber(req.slots.quantity);
  if (fewer !== undefined && fewer < line.quantity) {
    await deps.shop.setCartQuantity(deps.shopperId, product.id, line.quantity - fewer);
    return done(say("quantity_set", { item: { count: line.quantity - fewer, product } }), { lastProductId: product.id });
  }
  await deps.shop.removeFromCart(deps.shopperId, product.id);
  return done(say("removed", { product: { product } }), { lastProductId: product.id });
}

async function setQuantity(deps: HandlerDeps, req: Request, last?: string): Promise<Outcome> {
  const quantity = asNumber(req.slots.quantity);
  if (quantity === undefined) return done(say("how_many_generic"));
  // A product the dialogue already settled on (an accepted offer) need not be in the cart yet.
  const known = req.productId ? await deps.shop.product(req.productId) : null;
  const { product, outcome } = known ? { product: known, outcome: undefined } : await cartLineFor(deps, req, last);
  if (outcome) return outcome;
  if (!product) return done(say("which_product"));
  try {
    await deps.shop.setCartQuantity(deps.shopperId, product.id, quantity);
  } catch (e) {
    if (e instanceof ShopError && e.code === "out-of-stock") return offerAvailable(product, Number(e.detail.available), quantity);
    throw e;
  }
  return done(say("quantity_set", { item: { count: quantity, product } }), { lastProductId: product.id });
}

async function readCart(deps: HandlerDeps): Promise<Outcome> {
  const cart = await deps.shop.cart(deps.shopperId);
  if (cart.lines.length === 0) return done(say("cart_empty"));
  return done(say("cart_contents", { items: cartItems(cart), total: { money: cart.total } }));
}

function cartItems(cart: Cart): { lines: Cart["lines"] } {
  return { lines: cart.lines };
}

async function search(deps: HandlerDeps, req: Request): Promise<Outcome> {
  const query = String(req.slots.product ?? "");
  // Offer what can be bought now first; sold-out matches still count as "we have it" only if nothing else does.
  const found = firstOfEachFamily(await deps.shop.search(query, deps.locale, 12));
  const hits = [...found.filter((p) => p.stock > 0), ...found.filter((p) => p.stock === 0)];
  if (hits.length === 0) return done(say("not_found", { query }));
  const choices = hits.slice(0, 3);
  return {
    reply: say("search_results", { query, options: { products: choices, joiner: "or" } }),
    next: "choosing",
    options: { productIds: choices.map((p) => p.id), purpose: "AddToCart" },
  };
}

async function price(deps: HandlerDeps, req: Request, last?: string): Promise<Outcome> {
  const found = await resolveProduct(deps, req, last, "ProductPrice");
  if (found.kind === "outcome") return found.outcome;
  const { product } = found;
  return done(say(product.stock > 0 ? "price" : "price_out_of_stock", { product: { product }, price: { money: product.price } }), { lastProductId: product.id });
}

async function recommend(deps: HandlerDeps, req: Request): Promise<Outcome> {
  const age = asNumber(req.slots.age);
  const query = req.slots.product === undefined ? undefined : String(req.slots.product);
  const recs = await deps.shop.recommend(deps.shopperId, { age, query, locale: deps.locale });
  if (recs.length === 0) return done(say("no_suggestion"));
  const products = recs.map((r) => r.product);
  return {
    reply: say(age !== undefined ? "suggest_for_age" : "suggest", { age: age ?? 0, options: { products, joiner: "or" } }),
    next: "choosing",
    options: { productIds: products.map((p) => p.id), purpose: "AddToCart" },
  };
}

/**
 * Emptying a cart that has something in it is asked first: it cannot be undone by "undo", and by
 * voice a short request is easily misheard as "empty it" (measured: "add tea" in one voice).
 */
async function clearCart(deps: HandlerDeps, req: Request): Promise<Outcome> {
  const cart = await deps.shop.cart(deps.shopperId);
  if (cart.lines.length === 0) return done(say("cart_empty"));
  if (!req.confirmed) return { reply: say("confirm_clear", { items: cartItems(cart) }), next: "confirmingClear" };
  await deps.shop.clearCart(deps.shopperId);
  return done(say("cart_cleared"));
}

async function checkout(deps: HandlerDeps): Promise<Outcome> {
  const cart = await deps.shop.cart(deps.shopperId);
  if (cart.lines.length === 0) return done(say("cart_empty"));
  return {
    reply: say("confirm_order", { items: cartItems(cart), total: { money: cart.total } }),
    next: "confirmingCheckout",
    confirmed: cart.lines.map((l) => ({ productId: l.product.id, quantity: l.quantity })),
  };
}

async function orderStatus(deps: HandlerDeps, req: Request): Promise<Outcome> {
  const wanted = asNumber(req.slots.order);
  const order = wanted !== undefined ? await deps.shop.order(deps.shopperId, wanted) : (await deps.shop.orders(deps.shopperId, 1))[0];
  if (!order) return done(say(wanted !== undefined ? "order_unknown" : "no_orders", { order: { reference: wanted ?? 0 } }));
  const items = order.lines.reduce((n, l) => n + l.quantity, 0);
  return done(say(`order_${order.status}`, { order: { reference: order.id }, date: { date: order.placedAt }, items: { counted: items, key: "items" }, total: { money: order.total } }));
}

async function reorder(deps: HandlerDeps, req: Request, last?: string): Promise<Outcome> {
  const history = await deps.shop.orders(deps.shopperId, 50);
  if (history.length === 0) return done(say("no_orders", { order: 0 }));
  if (req.slots.scope === "order" || (req.slots.product === undefined && !req.productId)) {
    const added: { product: Product; quantity: number }[] = [];
    const missing: Product[] = [];
    for (const line of history[0].lines) {
      try {
        await deps.shop.addToCart(deps.shopperId, line.product.id, line.quantity);
        added.push({ product: line.product, quantity: line.quantity });
      } catch (e) {
        // Sold out, or the cart already holds what is left: say so, add the rest.
        if (!(e instanceof ShopError && (e.code === "out-of-stock" || e.code === "unknown-product"))) throw e;
        missing.push(line.product);
      }
    }
    const cart = await deps.shop.cart(deps.shopperId);
    if (added.length === 0) return done(say("reorder_none_available"));
    return done(say(missing.length ? "reordered_some" : "reordered", {
      items: { lines: added }, missing: { products: missing, joiner: "and" }, total: { money: cart.total },
    }), { lastProductId: added[added.length - 1].product.id });
  }
  // "buy my usual coffee again": the matching product this shopper bought most, in the quantity of last time.
  const found = await resolveProduct(deps, req, last, "Reorder");
  if (found.kind === "outcome") return found.outcome;
  const lastLine = history.flatMap((o) => o.lines).find((l) => l.product.id === found.product.id);
  return addToCart(deps, { intent: "AddToCart", slots: { quantity: lastLine?.quantity ?? 1 }, productId: found.product.id }, last);
}

async function addToWishlist(deps: HandlerDeps, req: Request, last?: string): Promise<Outcome> {
  const found = await resolveProduct(deps, req, last, "AddToWishlist");
  if (found.kind === "outcome") return found.outcome;
  await deps.shop.addToWishlist(deps.shopperId, found.product.id);
  return done(say("wishlisted", { product: { product: found.product } }), { lastProductId: found.product.id });
}

async function readWishlist(deps: HandlerDeps): Promise<Outcome> {
  const items = await deps.shop.wishlist(deps.shopperId);
  if (items.length === 0) return done(say("wishlist_empty"));
  return {
    reply: say("wishlist_contents", { options: { products: items.slice(0, 5), joiner: "and" } }),
    next: "choosing",
    options: { productIds: items.slice(0, 5).map((p) => p.id), purpose: "AddToCart" },
  };
}

/**
 * One request, against the shop. Intents the dialogue answers itself (yes, help, ...) never reach
 * here; a domain's own intents get their response from responses.yaml and leave the shop alone.
 */
export async function handleRequest(deps: DialogueDeps, req: Request, lastProductId?: string): Promise<Outcome> {
  switch (req.intent) {
    case "AddToCart": return addToCart(deps, req, lastProductId);
    case "RemoveFromCart": return removeFromCart(deps, req, lastProductId);
    case "SetQuantity": return setQuantity(deps, req, lastProductId);
    case "ReadCart": return readCart(deps);
    case "ClearCart": return clearCart(deps, req);
    case "SearchProduct": return search(deps, req);
    case "ProductPrice": return price(deps, req, lastProductId);
    case "Recommend": return recommend(deps, req);
    case "Checkout": return checkout(deps);
    case "OrderStatus": return orderStatus(deps, req);
    case "Reorder": return reorder(deps, req, lastProductId);
    case "AddToWishlist": return addToWishlist(deps, req, lastProductId);
    case "ReadWishlist": return readWishlist(deps);
    case "ProvidePin": return done(say("pin_not_expected"));
    case "SelectOption": return done(say("nothing_to_choose"));
    case "Yes": return done(say("yes_without_question"));
    case "No": return done(say("no_more"));
    default: return done(intentReply(req, deps.responses) ?? say("cannot_do"));
  }
}

export type { Shop };
