import { readFileSync } from "node:fs";
import { hashPin } from "./pin.js";
import type { Db } from "./db.js";
import type { Category } from "./types.js";

interface SeedProduct {
  id: string; name: string; brand: string; category: string; family: string; variant: Record<string, string>;
  unit: Record<string, [string, string]>; price: number; stock: number; terms: Record<string, string[]>; tags: string[];
  ages: { min: number; max: number } | null;
  i18n?: Record<string, { name?: string; variant?: Record<string, string> }>;
}
interface SeedShopper {
  id: string; name: string; locale: string; pin: string; wishlist?: string[];
  orders: { placed_at: string; status: string; lines: { product: string; quantity: number }[] }[];
}

const seedFile = (name: string) => new URL(`../../../src/shop/seed/${name}`, import.meta.url);

function readSeed<T>(name: string): T {
  // Works from src/ (tests) and dist/src/ (built CLI): the JSON stays in src/shop/seed/.
  for (const url of [new URL(`./seed/${name}`, import.meta.url), seedFile(name)]) {
    try {
      return JSON.parse(readFileSync(url, "utf8")) as T;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  throw new Error(`demo seed file ${name} is missing from src/shop/seed/`);
}

export const DEMO_SHOPPER = "demo";
/** Documented in the README: the demo shopper's voice PIN. */
export const DEMO_PIN = "4321";

/** Loads the demo catalog, shoppers, their order history and wishlists into an empty shop. */
export async function seedDemoShop(db: Db): Promise<void> {
  const catalog = readSeed<{ categories: Category[]; products: SeedProduct[] }>("catalog.json");
  const { shoppers } = readSeed<{ shoppers: SeedShopper[] }>("shopper.json");
  const priceOf = new Map(catalog.products.map((p) => [p.id, p.price]));
  await db.transaction().execute(async (trx) => {
    await trx.insertInto("categories").values(catalog.categories.map((c) => ({
      id: c.id, department: c.department, name_json: JSON.stringify(c.name), plural_json: JSON.stringify(c.plural),
    }))).execute();
    for (let i = 0; i < catalog.products.length; i += 100) {
      await trx.insertInto("products").values(catalog.products.slice(i, i + 100).map((p) => ({
        id: p.id, name: p.name, brand: p.brand, category: p.category, family: p.family,
        variant_json: JSON.stringify(p.variant ?? {}), unit_json: JSON.stringify(p.unit), price: p.price, stock: p.stock,
        terms_json: JSON.stringify(p.terms ?? {}), tags_json: JSON.stringify(p.tags ?? []),
        age_min: p.ages?.min ?? null, age_max: p.ages?.max ?? null, i18n_json: JSON.stringify(p.i18n ?? {}),
      }))).execute();
    }
    for (const s of shoppers) {
      await trx.insertInto("shoppers").values({
        id: s.id, name: s.name, locale: s.locale, pin_hash: await hashPin(s.pin), pin_failures: 0, locked_until: null,
      }).execute();
      for (const o of s.orders) {
        const total = o.lines.reduce((sum, l) => sum + l.quantity * priceOf.get(l.product)!, 0);
        const { id } = await trx.insertInto("orders").values({
          shopper_id: s.id, placed_at: o.placed_at, status: o.status, total, idempotency_key: null, request_hash: null,
        }).returning("id").executeTakeFirstOrThrow();
        await trx.insertInto("order_lines").values(o.lines.map((l) => ({
          order_id: id, product_id: l.product, quantity: l.quantity, unit_price: priceOf.get(l.product)!,
        }))).execute();
      }
      for (const [i, productId] of (s.wishlist ?? []).entries()) {
        await trx.insertInto("wishlist").values({ shopper_id: s.id, product_id: productId, added_at: i }).execute();
      }
    }
  });
}

/** Empties every table (children first) so the demo data can be loaded again. */
export async function clearShop(db: Db): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const table of ["order_lines", "orders", "cart_lines", "wishlist", "shoppers", "products", "categories"] as const) {
      await trx.deleteFrom(table).execute();
    }
  });
}
