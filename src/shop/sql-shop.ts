import { createHash } from "node:crypto";
import { sql, type Selectable } from "kysely";
import type { Database, Tables } from "./db.js";
import { migrateToLatest } from "./migrations.js";
import { clearShop, seedDemoShop } from "./seed.js";
import { CatalogIndex } from "./catalog-index.js";
import { pinMatches, PIN_LOCK_MS, PIN_MAX_TRIES } from "./pin.js";
import { rankForWish, rankSimilar } from "./recommend.js";
import {
  ShopError, type Cart, type Category, type ConfirmedLine, type Locale, type Order, type PinCheck, type Product, type Recommendation, type Shop, type Shopper,
} from "./types.js";

type ProductRow = Selectable<Tables["products"]>;

function toProduct(r: ProductRow, categories: Map<string, Category>): Product {
  return {
    id: r.id, name: r.name, brand: r.brand, category: r.category, department: categories.get(r.category)?.department ?? "",
    family: r.family, variant: JSON.parse(r.variant_json), unit: JSON.parse(r.unit_json), price: Number(r.price),
    stock: Number(r.stock), terms: JSON.parse(r.terms_json), tags: JSON.parse(r.tags_json),
    ages: r.age_min === null || r.age_max === null ? null : { min: Number(r.age_min), max: Number(r.age_max) },
    i18n: JSON.parse(r.i18n_json ?? "{}"),
  };
}

/** What identifies an order request: the cart's lines. The same key with another cart is a conflict. */
function requestHash(lines: { product_id: string; quantity: number }[]): string {
  const canonical = [...lines].sort((a, b) => a.product_id.localeCompare(b.product_id)).map((l) => `${l.product_id}x${l.quantity}`).join(",");
  return createHash("sha256").update(canonical).digest("hex");
}

/** The cart and order API over SQLite or PostgreSQL (one Kysely query layer). */
export class SqlShop implements Shop {
  private constructor(
    private readonly database: Database,
    private readonly categoryById: Map<string, Category>,
    readonly index: CatalogIndex,
    private readonly now: () => number,
  ) {}

  /** Migrates, seeds the demo shop on first start, and builds the search index. */
  static async open(database: Database, opts: { now?: () => number; seed?: boolean } = {}): Promise<SqlShop> {
    await migrateToLatest(database.db, database.engine);
    if (opts.seed !== false) {
      const { n } = await database.db.selectFrom("products").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
      if (Number(n) === 0) await seedDemoShop(database.db);
    }
    return SqlShop.load(database, opts.now ?? Date.now);
  }

  private static async load(database: Database, now: () => number): Promise<SqlShop> {
    const categories = (await database.db.selectFrom("categories").selectAll().execute()).map((c) => ({
      id: c.id, department: c.department, name: JSON.parse(c.name_json), plural: JSON.parse(c.plural_json),
    }));
    const byId = new Map(categories.map((c) => [c.id, c]));
    const products = (await database.db.selectFrom("products").selectAll().execute()).map((r) => toProduct(r, byId));
    return new SqlShop(database, byId, new CatalogIndex(products, categories), now);
  }

  /** `talkcart shop reset`: back to the demo catalog, history and stock. */
  static async reset(database: Database): Promise<void> {
    await migrateToLatest(database.db, database.engine);
    await clearShop(database.db);
    await seedDemoShop(database.db);
  }

  private lastStamp = 0;

  /** A strictly increasing time stamp: lines added in the same millisecond keep their order. */
  private stamp(): number {
    this.lastStamp = Math.max(this.now(), this.lastStamp + 1);
    return this.lastStamp;
  }

  get engine() { return this.database.engine; }

  categories(): Category[] {
    return [...this.categoryById.values()];
  }

  async search(query: string, locale: Locale, limit = 10): Promise<Product[]> {
    const hits = this.index.find(query, locale, limit);
    const products = await this.products(hits.map((h) => h.id));
    return hits.map((h) => products.get(h.id)!).filter(Boolean);
  }

  async allProducts(): Promise<Product[]> {
    const rows = await this.database.db.selectFrom("products").selectAll().orderBy("category").orderBy("id").execute();
    return rows.map((r) => toProduct(r, this.categoryById));
  }

  async product(id: string): Promise<Product | null> {
    return (await this.products([id])).get(id) ?? null;
  }

  private async products(ids: string[]): Promise<Map<string, Product>> {
    if (ids.length === 0) return new Map();
    const rows = await this.database.db.selectFrom("products").selectAll().where("id", "in", ids).execute();
    return new Map(rows.map((r) => [r.id, toProduct(r, this.categoryById)]));
  }

  async shopper(id: string): Promise<Shopper | null> {
    const row = await this.database.db.selectFrom("shoppers").select(["id", "name", "locale"]).where("id", "=", id).executeTakeFirst();
    return row ?? null;
  }

  async cart(shopperId: string): Promise<Cart> {
    const rows = await this.database.db.selectFrom("cart_lines").innerJoin("products", "products.id", "cart_lines.product_id")
      .selectAll("products").select(["cart_lines.quantity as quantity"])
      .where("cart_lines.shopper_id", "=", shopperId).orderBy("cart_lines.added_at").execute();
    const lines = rows.map((r) => ({ product: toProduct(r, this.categoryById), quantity: Number(r.quantity) }));
    return { lines, total: lines.reduce((s, l) => s + l.quantity * l.product.price, 0) };
  }

  async addToCart(shopperId: string, productId: string, quantity: number): Promise<Cart> {
    const line = await this.database.db.selectFrom("cart_lines").select("quantity")
      .where("shopper_id", "=", shopperId).where("product_id", "=", productId).executeTakeFirst();
    return this.setCartQuantity(shopperId, productId, (line ? Number(line.quantity) : 0) + quantity);
  }

  async setCartQuantity(shopperId: string, productId: string, quantity: number): Promise<Cart> {
    if (quantity <= 0) return this.removeFromCart(shopperId, productId);
    const product = await this.product(productId);
    if (!product) throw new ShopError("unknown-product", `no product with id ${productId}`, { productId });
    if (quantity > product.stock) {
      throw new ShopError("out-of-stock", `only ${product.stock} of ${product.name} in stock`, { productId, available: product.stock, requested: quantity });
    }
    await this.database.db.insertInto("cart_lines")
      .values({ shopper_id: shopperId, product_id: productId, quantity, added_at: this.stamp() })
      .onConflict((oc) => oc.columns(["shopper_id", "product_id"]).doUpdateSet({ quantity }))
      .execute();
    return this.cart(shopperId);
  }

  async removeFromCart(shopperId: string, productId: string): Promise<Cart> {
    await this.database.db.deleteFrom("cart_lines").where("shopper_id", "=", shopperId).where("product_id", "=", productId).execute();
    return this.cart(shopperId);
  }

  async clearCart(shopperId: string): Promise<Cart> {
    await this.database.db.deleteFrom("cart_lines").where("shopper_id", "=", shopperId).execute();
    return this.cart(shopperId);
  }

  async verifyPin(shopperId: string, pin: string): Promise<PinCheck> {
    const db = this.database.db;
    const now = this.now();
    // Claim the try before checking the PIN (one atomic update), so guesses sent at the same time
    // cannot all see "no failures yet". An expired lock starts a fresh count.
    const claimed = await db.updateTable("shoppers")
      .set({
        pin_failures: sql<number>`case when locked_until is not null then 1 else pin_failures + 1 end`,
        locked_until: null,
      })
      .where("id", "=", shopperId)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", now)]))
      .returning(["pin_failures", "pin_hash"])
      .executeTakeFirst();
    if (!claimed) {
      const row = await db.selectFrom("shoppers").select("locked_until").where("id", "=", shopperId).executeTakeFirst();
      if (!row) throw new ShopError("unavailable", `unknown shopper ${shopperId}`);
      return { result: "locked", until: new Date(Number(row.locked_until)) };
    }
    const tries = Number(claimed.pin_failures);
    if (tries <= PIN_MAX_TRIES && (await pinMatches(pin, claimed.pin_hash))) {
      await db.updateTable("shoppers").set({ pin_failures: 0 }).where("id", "=", shopperId).execute();
      return { result: "ok" };
    }
    if (tries >= PIN_MAX_TRIES) {
      const until = now + PIN_LOCK_MS;
      await db.updateTable("shoppers").set({ pin_failures: 0, locked_until: until }).where("id", "=", shopperId).execute();
      return { result: "locked", until: new Date(until) };
    }
    return { result: "wrong", triesLeft: PIN_MAX_TRIES - tries };
  }

  async placeOrder(shopperId: string, idempotencyKey: string, confirmed?: ConfirmedLine[]): Promise<Order> {
    const orderId = await this.database.orderTransaction([`cart:${shopperId}`, `order-key:${idempotencyKey}`], async (trx) => {
      const lines = await trx.selectFrom("cart_lines").innerJoin("products", "products.id", "cart_lines.product_id")
        .select(["cart_lines.product_id", "cart_lines.quantity", "products.price", "products.stock", "products.name"])
        .where("cart_lines.shopper_id", "=", shopperId).execute();
      const hash = requestHash(lines);
      // Look the key up before anything else: a retry whose first attempt already emptied the cart must get that order back.
      const existing = await trx.selectFrom("orders").select(["id", "request_hash", "shopper_id"])
        .where("idempotency_key", "=", idempotencyKey).executeTakeFirst();
      if (existing) {
        if (existing.shopper_id === shopperId && (lines.length === 0 || existing.request_hash === hash)) return existing.id;
        throw new ShopError("idempotency-conflict", "this order key was already used for a different cart", { idempotencyKey });
      }
      if (lines.length === 0) throw new ShopError("empty-cart", "the cart is empty");
      // Order what the shopper confirmed, not what the cart became meanwhile (another device, another tab).
      if (confirmed && requestHash(confirmed.map((c) => ({ product_id: c.productId, quantity: c.quantity }))) !== hash) {
        throw new ShopError("cart-changed", "the cart changed after it was confirmed");
      }
      for (const l of lines) {
        const updated = await trx.updateTable("products").set((eb) => ({ stock: eb("stock", "-", l.quantity) }))
          .where("id", "=", l.product_id).where("stock", ">=", l.quantity).executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) {
          throw new ShopError("out-of-stock", `only ${l.stock} of ${l.name} in stock`, { productId: l.product_id, available: Number(l.stock), requested: Number(l.quantity) });
        }
      }
      const total = lines.reduce((s, l) => s + Number(l.quantity) * Number(l.price), 0);
      const { id } = await trx.insertInto("orders").values({
        shopper_id: shopperId, placed_at: new Date(this.now()).toISOString(), status: "processing", total,
        idempotency_key: idempotencyKey, request_hash: hash,
      }).returning("id").executeTakeFirstOrThrow();
      await trx.insertInto("order_lines").values(lines.map((l) => ({
        order_id: id, product_id: l.product_id, quantity: Number(l.quantity), unit_price: Number(l.price),
      }))).execute();
      await trx.deleteFrom("cart_lines").where("shopper_id", "=", shopperId).execute();
      return id;
    });
    return (await this.order(shopperId, orderId))!;
  }

  async orderByKey(shopperId: string, idempotencyKey: string): Promise<Order | null> {
    const row = await this.database.db.selectFrom("orders").select("id").where("shopper_id", "=", shopperId)
      .where("idempotency_key", "=", idempotencyKey).executeTakeFirst();
    return row ? this.order(shopperId, Number(row.id)) : null;
  }

  async orders(shopperId: string, limit = 20): Promise<Order[]> {
    const rows = await this.database.db.selectFrom("orders").selectAll().where("shopper_id", "=", shopperId)
      .orderBy("id", "desc").limit(limit).execute();
    return this.withLines(rows);
  }

  async order(shopperId: string, orderId: number): Promise<Order | null> {
    const rows = await this.database.db.selectFrom("orders").selectAll().where("shopper_id", "=", shopperId).where("id", "=", orderId).execute();
    return (await this.withLines(rows))[0] ?? null;
  }

  private async withLines(rows: Selectable<Tables["orders"]>[]): Promise<Order[]> {
    if (rows.length === 0) return [];
    const lines = await this.database.db.selectFrom("order_lines").innerJoin("products", "products.id", "order_lines.product_id")
      .selectAll("products").select(["order_lines.order_id", "order_lines.quantity as quantity", "order_lines.unit_price"])
      .where("order_lines.order_id", "in", rows.map((r) => r.id)).execute();
    return rows.map((r) => ({
      id: Number(r.id), shopperId: r.shopper_id, placedAt: r.placed_at, status: r.status, total: Number(r.total),
      lines: lines.filter((l) => Number(l.order_id) === Number(r.id)).map((l) => ({
        product: toProduct(l, this.categoryById), quantity: Number(l.quantity), unitPrice: Number(l.unit_price),
      })),
    }));
  }

  async wishlist(shopperId: string): Promise<Product[]> {
    const rows = await this.database.db.selectFrom("wishlist").innerJoin("products", "products.id", "wishlist.product_id")
      .selectAll("products").where("wishlist.shopper_id", "=", shopperId).orderBy("wishlist.added_at").execute();
    return rows.map((r) => toProduct(r, this.categoryById));
  }

  async addToWishlist(shopperId: string, productId: string): Promise<Product[]> {
    await this.database.db.insertInto("wishlist").values({ shopper_id: shopperId, product_id: productId, added_at: this.stamp() })
      .onConflict((oc) => oc.columns(["shopper_id", "product_id"]).doNothing()).execute();
    return this.wishlist(shopperId);
  }

  async purchaseCounts(shopperId: string): Promise<Map<string, number>> {
    const rows = await this.database.db.selectFrom("order_lines").innerJoin("orders", "orders.id", "order_lines.order_id")
      .select(["order_lines.product_id", sql<number>`count(*)`.as("n")])
      .where("orders.shopper_id", "=", shopperId).groupBy("order_lines.product_id").execute();
    return new Map(rows.map((r) => [r.product_id, Number(r.n)]));
  }

  private async habits(shopperId: string) {
    const bought = await this.purchaseCounts(shopperId);
    const brands = new Map<string, number>();
    const products = await this.products([...bought.keys()]);
    for (const [id, n] of bought) {
      const brand = products.get(id)?.brand;
      if (brand) brands.set(brand, (brands.get(brand) ?? 0) + n);
    }
    return { bought, brands };
  }

  async recommendSimilar(productId: string, shopperId: string): Promise<Recommendation | null> {
    const original = await this.product(productId);
    if (!original) return null;
    const rows = await this.database.db.selectFrom("products").selectAll()
      .where("category", "in", this.categoriesOfDepartment(original.department)).where("stock", ">", 0).execute();
    const { bought, brands } = await this.habits(shopperId);
    return rankSimilar(original, rows.map((r) => toProduct(r, this.categoryById)), bought, brands)[0] ?? null;
  }

  async recommend(shopperId: string, wish: { age?: number; query?: string; locale: Locale }, limit = 3): Promise<Recommendation[]> {
    let candidates: Product[];
    if (wish.query) candidates = await this.search(wish.query, wish.locale, 30);
    else {
      const rows = await this.database.db.selectFrom("products").selectAll().where("stock", ">", 0)
        .where("category", "in", this.categoriesOfDepartment(wish.age !== undefined ? "toys" : "gifts")).execute();
      candidates = rows.map((r) => toProduct(r, this.categoryById)).sort((a, b) => b.stock - a.stock);
    }
    const { bought, brands } = await this.habits(shopperId);
    const ranked = rankForWish(candidates, wish, bought, brands);
    // One suggestion per product family: three sizes of the same thing are not three ideas.
    const seen = new Set<string>();
    return ranked.filter((r) => !seen.has(r.product.family) && seen.add(r.product.family)).slice(0, limit);
  }

  private categoriesOfDepartment(department: string): string[] {
    return [...this.categoryById.values()].filter((c) => c.department === department).map((c) => c.id);
  }

  async close(): Promise<void> {
    await this.database.db.destroy();
  }
}
