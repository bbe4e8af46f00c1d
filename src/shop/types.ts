/** The shop as the dialogue sees it. Money is in integer minor units (cents). */
export type Locale = "en" | "de";

export interface Product {
  id: string;
  name: string;
  brand: string;
  category: string;
  department: string;
  family: string;
  variant: Record<string, string>;
  unit: Record<string, [singular: string, plural: string]>;
  price: number;
  stock: number;
  terms: Record<string, string[]>;
  tags: string[];
  ages: { min: number; max: number } | null;
  /** Localised name and variant values, where the catalog's own (English) ones would sound foreign. */
  i18n?: Record<string, { name?: string; variant?: Record<string, string> }>;
}

export interface Category {
  id: string;
  department: string;
  name: Record<string, string>;
  plural: Record<string, string>;
}

export interface CartLine {
  product: Product;
  quantity: number;
}

export interface Cart {
  lines: CartLine[];
  total: number;
}

export interface OrderLine {
  product: Product;
  quantity: number;
  unitPrice: number;
}

export interface ConfirmedLine {
  productId: string;
  quantity: number;
}

export interface Order {
  id: number;
  shopperId: string;
  placedAt: string;
  status: string;
  total: number;
  lines: OrderLine[];
}

export interface Shopper {
  id: string;
  name: string;
  locale: string;
}

export type RecommendReason = "same-category" | "similar-price" | "brand-you-buy" | "same-brand" | "bought-before" | "age-fits";

export interface Recommendation {
  product: Product;
  reasons: RecommendReason[];
  score: number;
}

export type PinCheck =
  | { result: "ok" }
  | { result: "wrong"; triesLeft: number }
  | { result: "locked"; until: Date };

export interface Shop {
  categories(): Category[];
  search(query: string, locale: Locale, limit?: number): Promise<Product[]>;
  product(id: string): Promise<Product | null>;
  shopper(id: string): Promise<Shopper | null>;

  cart(shopperId: string): Promise<Cart>;
  addToCart(shopperId: string, productId: string, quantity: number): Promise<Cart>;
  setCartQuantity(shopperId: string, productId: string, quantity: number): Promise<Cart>;
  removeFromCart(shopperId: string, productId: string): Promise<Cart>;
  clearCart(shopperId: string): Promise<Cart>;

  verifyPin(shopperId: string, pin: string): Promise<PinCheck>;
  /**
   * Places the cart as one order, at most once per key. With `confirmed`, the cart must still be
   * what the shopper confirmed (else "cart-changed"); nothing changes when it fails.
   */
  placeOrder(shopperId: string, idempotencyKey: string, confirmed?: ConfirmedLine[]): Promise<Order>;
  /** The order placed with this key, if any: how a timed-out checkout learns whether it went through. */
  orderByKey(shopperId: string, idempotencyKey: string): Promise<Order | null>;
  orders(shopperId: string, limit?: number): Promise<Order[]>;
  order(shopperId: string, orderId: number): Promise<Order | null>;

  wishlist(shopperId: string): Promise<Product[]>;
  addToWishlist(shopperId: string, productId: string): Promise<Product[]>;

  /** The in-stock product most like `productId` for this shopper, and why. */
  recommendSimilar(productId: string, shopperId: string): Promise<Recommendation | null>;
  /** Suggestions by age and/or kind of thing, this shopper's habits weighing in. */
  recommend(shopperId: string, wish: { age?: number; query?: string; locale: Locale }, limit?: number): Promise<Recommendation[]>;
  /** How often this shopper bought each product (for "my usual"). */
  purchaseCounts(shopperId: string): Promise<Map<string, number>>;

  close(): Promise<void>;
}

/** Expected shop failures: the dialogue turns these into spoken answers. */
export class ShopError extends Error {
  constructor(readonly code: "empty-cart" | "out-of-stock" | "unknown-product" | "idempotency-conflict" | "cart-changed" | "locked" | "unavailable", message: string, readonly detail: Record<string, unknown> = {}) {
    super(message);
  }
}
