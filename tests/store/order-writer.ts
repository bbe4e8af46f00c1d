/**
 * Child process for the kill -9 test: places orders as fast as it can and prints each key only
 * after placeOrder has returned (i.e. committed). The parent kills it at a random moment.
 */
import { writeSync } from "node:fs";
import { SqlShop } from "../../src/shop/sql-shop.js";
import { openTarget } from "../helpers/backends.js";

const [target, prefix] = process.argv.slice(2);
const database = await openTarget(target);
const shop = await SqlShop.open(database);
await database.db.updateTable("products").set({ stock: 10_000_000 }).where("id", "=", "chiquita-bananas").execute();
writeSync(1, "ready\n");
for (let i = 0; ; i++) {
  await shop.addToCart("demo", "chiquita-bananas", 1);
  const key = `${prefix}-${i}`;
  const order = await shop.placeOrder("demo", key);
  writeSync(1, `${key} ${order.id}\n`);
}
