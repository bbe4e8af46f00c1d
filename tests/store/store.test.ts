import { describe, expect, it } from "vitest";
import { sql } from "kysely";
import { migrateToLatest } from "../../src/shop/migrations.js";
import { SqlShop } from "../../src/shop/sql-shop.js";
import { ShopError } from "../../src/shop/types.js";
import { backends } from "../helpers/backends.js";

describe.each(backends)("store on $name", (backend) => {
  async function demoShop(now?: () => number) {
    return SqlShop.open(await backend.open(await backend.create()), { now });
  }

  it("migrates a new database once, and again is a no-op", async () => {
    const database = await backend.open(await backend.create());
    expect(await migrateToLatest(database.db, database.engine)).toEqual(["0001_catalog_cart_orders", "0002_localised_product_names"]);
    expect(await migrateToLatest(database.db, database.engine)).toEqual([]);
    const shop = await SqlShop.open(database);
    expect((await shop.allProducts()).length).toBeGreaterThanOrEqual(150);
    await shop.close();
  });

  it("places an order in one transaction: stock down, lines stored, cart emptied", async () => {
    const shop = await demoShop();
    const before = (await shop.product("chiquita-bananas"))!;
    await shop.addToCart("demo", "chiquita-bananas", 3);
    await shop.addToCart("demo", "lavazza-crema-1kg", 1);
    const order = await shop.placeOrder("demo", "key-1");
    expect(order.total).toBe(3 * before.price + (await shop.product("lavazza-crema-1kg"))!.price);
    expect(order.lines.map((l) => [l.product.id, l.quantity]).sort()).toEqual([["chiquita-bananas", 3], ["lavazza-crema-1kg", 1]]);
    expect((await shop.product("chiquita-bananas"))!.stock).toBe(before.stock - 3);
    expect((await shop.cart("demo")).lines).toEqual([]);
    await shop.close();
  });

  it("refuses more than is in stock and changes nothing", async () => {
    const shop = await demoShop();
    const p = (await shop.allProducts()).find((x) => x.stock > 0 && x.stock < 5)!;
    await expect(shop.addToCart("demo", p.id, p.stock + 1)).rejects.toMatchObject({ code: "out-of-stock", detail: { available: p.stock } });
    expect((await shop.cart("demo")).lines).toEqual([]);
    await shop.close();
  });

  it("rolls the whole order back when one line sold out meanwhile", async () => {
    const shop = await demoShop();
    await shop.addToCart("demo", "chiquita-bananas", 2);
    await shop.addToCart("demo", "lavazza-crema-1kg", 1);
    const bananas = (await shop.product("chiquita-bananas"))!.stock;
    // Someone else buys the last coffee between "add" and "pay".
    await (shop as unknown as { database: { db: import("kysely").Kysely<any> } }).database.db
      .updateTable("products").set({ stock: 0 }).where("id", "=", "lavazza-crema-1kg").execute();
    const ordersBefore = (await shop.orders("demo", 100)).length;
    const err = await shop.placeOrder("demo", "key-x").catch((e) => e);
    expect(err).toBeInstanceOf(ShopError);
    expect(err.code).toBe("out-of-stock");
    expect((await shop.product("chiquita-bananas"))!.stock).toBe(bananas);
    expect((await shop.cart("demo")).lines).toHaveLength(2);
    expect((await shop.orders("demo", 100)).length).toBe(ordersBefore);
    await shop.close();
  });

  it("same key returns the same order; same key with another cart is a conflict", async () => {
    const shop = await demoShop();
    await shop.addToCart("demo", "chiquita-bananas", 1);
    const first = await shop.placeOrder("demo", "key-2");
    const retry = await shop.placeOrder("demo", "key-2"); // the cart is already empty: the key is looked up again
    expect(retry.id).toBe(first.id);
    await shop.addToCart("demo", "lavazza-crema-1kg", 1);
    await expect(shop.placeOrder("demo", "key-2")).rejects.toMatchObject({ code: "idempotency-conflict" });
    expect((await shop.cart("demo")).lines).toHaveLength(1);
    await shop.clearCart("demo");
    await expect(shop.placeOrder("demo", "key-empty")).rejects.toMatchObject({ code: "empty-cart" });
    await shop.close();
  });

  it("a retry storm (each key sent 3x at once) places one order per key and never oversells", async () => {
    const shop = await demoShop();
    const product = "lego-city-fire-station";
    const stock = (await shop.product(product))!.stock;
    const shoppers = Array.from({ length: stock + 3 }, (_, i) => `storm-${i}`);
    const db = (shop as unknown as { database: { db: import("kysely").Kysely<any> } }).database.db;
    for (const id of shoppers) {
      await db.insertInto("shoppers").values({ id, name: id, locale: "en", pin_hash: "x", pin_failures: 0, locked_until: null }).execute();
      await db.insertInto("cart_lines").values({ shopper_id: id, product_id: product, quantity: 1, added_at: 0 }).execute();
    }
    // More buyers than stock, every request sent three times concurrently.
    const attempts = shoppers.flatMap((id) => [0, 1, 2].map(() => shop.placeOrder(id, `storm-key-${id}`).then((o) => ({ id, order: o.id }), (e: ShopError) => ({ id, error: e.code }))));
    const results = await Promise.all(attempts);
    const placed = new Map<string, Set<number>>();
    for (const r of results) if ("order" in r) placed.set(r.id, (placed.get(r.id) ?? new Set()).add(r.order));
    for (const orders of placed.values()) expect(orders.size).toBe(1);
    expect(placed.size).toBe(stock);
    expect(results.filter((r) => "error" in r).every((r) => (r as { error: string }).error === "out-of-stock")).toBe(true);
    expect((await shop.product(product))!.stock).toBe(0);
    const { rows } = await sql<{ n: number }>`select count(*) as n from orders where idempotency_key like 'storm-key-%'`.execute(db);
    expect(Number(rows[0].n)).toBe(stock);
    await shop.close();
  });

  it("locks payment for 15 minutes after three wrong PINs", async () => {
    let now = Date.parse("2026-11-26T12:00:00Z");
    const shop = await demoShop(() => now);
    expect(await shop.verifyPin("demo", "1111")).toEqual({ result: "wrong", triesLeft: 2 });
    expect(await shop.verifyPin("demo", "2222")).toEqual({ result: "wrong", triesLeft: 1 });
    expect((await shop.verifyPin("demo", "3333")).result).toBe("locked");
    expect((await shop.verifyPin("demo", "4321")).result).toBe("locked"); // even the right PIN
    now += 15 * 60_000 + 1;
    expect(await shop.verifyPin("demo", "4321")).toEqual({ result: "ok" });
    await shop.close();
  });

  it("ten wrong PINs sent at once still lock after three tries", async () => {
    const shop = await demoShop();
    const results = await Promise.all(Array.from({ length: 10 }, () => shop.verifyPin("demo", "0000")));
    expect(results.filter((r) => r.result === "wrong")).toHaveLength(2);
    expect(results.filter((r) => r.result === "locked")).toHaveLength(8);
    expect((await shop.verifyPin("demo", "4321")).result).toBe("locked");
    await shop.close();
  });

  it("one cart ordered under two keys at once becomes one order", async () => {
    const shop = await demoShop();
    const stock = (await shop.product("chiquita-bananas"))!.stock;
    await shop.addToCart("demo", "chiquita-bananas", 2);
    const results = await Promise.allSettled([shop.placeOrder("demo", "tab-a"), shop.placeOrder("demo", "tab-b")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { code: "empty-cart" } });
    expect((await shop.product("chiquita-bananas"))!.stock).toBe(stock - 2);
    await shop.close();
  });

  it("orders only the cart the shopper confirmed", async () => {
    const shop = await demoShop();
    await shop.addToCart("demo", "chiquita-bananas", 1);
    const confirmed = [{ productId: "chiquita-bananas", quantity: 1 }];
    await shop.addToCart("demo", "lavazza-crema-1kg", 1); // added from another device after "yes"
    await expect(shop.placeOrder("demo", "key-c", confirmed)).rejects.toMatchObject({ code: "cart-changed" });
    expect(await shop.orderByKey("demo", "key-c")).toBeNull();
    expect((await shop.cart("demo")).lines).toHaveLength(2);
    await shop.removeFromCart("demo", "lavazza-crema-1kg");
    const order = await shop.placeOrder("demo", "key-c", confirmed);
    expect((await shop.orderByKey("demo", "key-c"))?.id).toBe(order.id);
    await shop.close();
  });

  it("stores the PIN only as a scrypt hash", async () => {
    const database = await backend.open(await backend.create());
    const shop = await SqlShop.open(database);
    const row = await database.db.selectFrom("shoppers").select("pin_hash").where("id", "=", "demo").executeTakeFirstOrThrow();
    expect(row.pin_hash).toMatch(/^scrypt\$/);
    expect(row.pin_hash).not.toContain("4321");
    await shop.close();
  });
});
