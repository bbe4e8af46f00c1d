import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { openPostgres, openSqlite, type Database } from "../../src/shop/db.js";

/**
 * The stores the tests run on: SQLite always; PostgreSQL when TALKCART_TEST_PG_URL names a server
 * (`.ci/run` starts one and sets TALKCART_REQUIRE_PG=1, so a missing server fails CI instead of skipping).
 */
export interface Backend {
  name: "sqlite" | "postgres";
  /** A new empty store: a file path for SQLite, a database URL for PostgreSQL. */
  create(): Promise<string>;
  open(target: string): Promise<Database>;
}

const pgAdminUrl = process.env.TALKCART_TEST_PG_URL;
if (process.env.TALKCART_REQUIRE_PG === "1" && !pgAdminUrl) {
  throw new Error("TALKCART_REQUIRE_PG=1 but TALKCART_TEST_PG_URL is not set: the PostgreSQL store tests cannot run");
}

export const backends: Backend[] = [
  {
    name: "sqlite",
    create: async () => join(mkdtempSync(join(tmpdir(), "talkcart-store-")), "shop.sqlite"),
    open: (file) => openSqlite(file),
  },
];

if (pgAdminUrl) {
  backends.push({
    name: "postgres",
    async create() {
      // A throwaway database per test, created through the admin connection.
      const name = `talkcart_test_${randomBytes(6).toString("hex")}`;
      const admin = await openPostgres(pgAdminUrl);
      await admin.db.executeQuery({ sql: `create database ${name}`, parameters: [] } as never);
      await admin.db.destroy();
      const url = new URL(pgAdminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    open: (url) => openPostgres(url),
  });
}

/** Opens a store target as the child processes do: a postgres:// URL or a SQLite file path. */
export function openTarget(target: string): Promise<Database> {
  return target.startsWith("postgres") ? openPostgres(target) : openSqlite(target);
}
