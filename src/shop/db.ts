import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from "kysely";
import type { Generated } from "kysely";

export interface Tables {
  categories: { id: string; department: string; name_json: string; plural_json: string };
  products: {
    id: string; name: string; brand: string; category: string; family: string; variant_json: string; unit_json: string;
    price: number; stock: number; terms_json: string; tags_json: string; age_min: number | null; age_max: number | null;
    i18n_json: Generated<string>;
  };
  shoppers: { id: string; name: string; locale: string; pin_hash: string; pin_failures: number; locked_until: number | null };
  cart_lines: { shopper_id: string; product_id: string; quantity: number; added_at: number };
  orders: {
    id: Generated<number>; shopper_id: string; placed_at: string; status: string; total: number;
    idempotency_key: string | null; request_hash: string | null;
  };
  order_lines: { order_id: number; product_id: string; quantity: number; unit_price: number };
  wishlist: { shopper_id: string; product_id: string; added_at: number };
}

export type Engine = "sqlite" | "postgres";
export type Db = Kysely<Tables>;

export interface Database {
  db: Db;
  engine: Engine;
  /** Where it lives, for messages: a file path or the server address without the password. */
  location: string;
  /**
   * The order path's transaction: SQLite takes the write lock up front (BEGIN IMMEDIATE) so two
   * writers never deadlock on upgrade; PostgreSQL takes transaction-level advisory locks on the
   * given keys, in the order given (the shopper's cart, then the idempotency key).
   */
  orderTransaction<T>(lockKeys: string[], fn: (trx: Transaction<Tables>) => Promise<T>): Promise<T>;
}

export async function openDatabase(opts: { dataDir: string; databaseUrl?: string }): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl) : openSqlite(join(opts.dataDir, "shop.sqlite"));
}

export async function openSqlite(file: string): Promise<Database> {
  const { default: BetterSqlite3 } = await import("better-sqlite3");
  if (file !== ":memory:") mkdirSync(join(file, ".."), { recursive: true });
  const raw = new BetterSqlite3(file);
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = FULL");
  raw.pragma("foreign_keys = ON");
  raw.pragma("busy_timeout = 5000");
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: raw }) });
  return {
    db,
    engine: "sqlite",
    location: file,
    orderTransaction: (_key, fn) =>
      // Kysely's SQLite driver has a single connection guarded by a mutex: holding it serialises writers in-process.
      db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const result = await fn(conn as unknown as Transaction<Tables>);
          await sql`commit`.execute(conn);
          return result;
        } catch (e) {
          await sql`rollback`.execute(conn);
          throw e;
        }
      }),
  };
}

export async function openPostgres(url: string): Promise<Database> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its server must not take the process down: the next query reconnects,
  // and a failing one becomes a spoken apology.
  pool.on("error", (err) => process.emitWarning(`PostgreSQL connection lost: ${err.message}`));
  // int8 (bigint) and numeric come back as strings by default; our values fit in a JS number.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  const u = new URL(url);
  return {
    db,
    engine: "postgres",
    location: `${u.protocol}//${u.host}${u.pathname}`,
    orderTransaction: (keys, fn) =>
      db.transaction().execute(async (trx) => {
        // Concurrent orders of one cart, and submissions of one key, wait here instead of reading the
        // same cart twice or all running the order and failing at the unique index.
        for (const key of keys) await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
        return fn(trx);
      }),
  };
}
