import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from "kysely";
import type { Engine } from "./db.js";

/** Versioned schema changes, in order. Add new ones at the end; never edit one that has shipped. */
function migrations(engine: Engine): Record<string, Migration> {
  return {
    "0001_catalog_cart_orders": {
      async up(db: Kysely<any>) {
        await db.schema.createTable("categories")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("department", "text", (c) => c.notNull())
          .addColumn("name_json", "text", (c) => c.notNull())
          .addColumn("plural_json", "text", (c) => c.notNull())
          .execute();
        await db.schema.createTable("products")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("brand", "text", (c) => c.notNull())
          .addColumn("category", "text", (c) => c.notNull().references("categories.id"))
          .addColumn("family", "text", (c) => c.notNull())
          .addColumn("variant_json", "text", (c) => c.notNull())
          .addColumn("unit_json", "text", (c) => c.notNull())
          .addColumn("price", "integer", (c) => c.notNull().check(sql`price >= 0`))
          .addColumn("stock", "integer", (c) => c.notNull().check(sql`stock >= 0`))
          .addColumn("terms_json", "text", (c) => c.notNull())
          .addColumn("tags_json", "text", (c) => c.notNull())
          .addColumn("age_min", "integer")
          .addColumn("age_max", "integer")
          .execute();
        await db.schema.createTable("shoppers")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("locale", "text", (c) => c.notNull())
          .addColumn("pin_hash", "text", (c) => c.notNull())
          .addColumn("pin_failures", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("locked_until", "bigint")
          .execute();
        await db.schema.createTable("cart_lines")
          .addColumn("shopper_id", "text", (c) => c.notNull().references("shoppers.id"))
          .addColumn("product_id", "text", (c) => c.notNull().references("products.id"))
          .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
          .addColumn("added_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("cart_lines_pk", ["shopper_id", "product_id"])
          .execute();
        await db.schema.createTable("orders")
          .addColumn("id", engine === "postgres" ? "serial" : "integer", (c) =>
            engine === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement())
          .addColumn("shopper_id", "text", (c) => c.notNull().references("shoppers.id"))
          .addColumn("placed_at", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("total", "integer", (c) => c.notNull())
          .addColumn("idempotency_key", "text", (c) => c.unique())
          .addColumn("request_hash", "text")
          .execute();
        await db.schema.createTable("order_lines")
          .addColumn("order_id", "integer", (c) => c.notNull().references("orders.id"))
          .addColumn("product_id", "text", (c) => c.notNull().references("products.id"))
          .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
          .addColumn("unit_price", "integer", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("order_lines_order").on("order_lines").column("order_id").execute();
        await db.schema.createIndex("orders_shopper").on("orders").columns(["shopper_id", "id"]).execute();
        await db.schema.createTable("wishlist")
          .addColumn("shopper_id", "text", (c) => c.notNull().references("shoppers.id"))
          .addColumn("product_id", "text", (c) => c.notNull().references("products.id"))
          .addColumn("added_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("wishlist_pk", ["shopper_id", "product_id"])
          .execute();
      },
    },
    "0002_localised_product_names": {
      async up(db: Kysely<any>) {
        await db.schema.alterTable("products").addColumn("i18n_json", "text", (c) => c.notNull().defaultTo("{}")).execute();
      },
    },
  };
}

export async function migrateToLatest(db: Kysely<any>, engine: Engine): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(engine) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw new Error(`database migration failed: ${error instanceof Error ? error.message : String(error)}`);
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
