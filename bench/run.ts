/**
 * `npm run bench`: the figures talkcart's performance claims come from, printed side by side in one run.
 * NLU parses/s, typed turn latency, orders/s on each store next to a raw single-row INSERT rate on the
 * same engine, and peak RSS. PostgreSQL is included when TALKCART_BENCH_PG_URL (or DATABASE_URL) is set.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { openPostgres, openSqlite, type Database } from "../src/shop/db.js";
import { SqlShop } from "../src/shop/sql-shop.js";
import { loadGrammar } from "../src/nlu/load-intents.js";
import { IntentMatcher } from "../src/nlu/matcher.js";
import { parseLabelledTsv } from "../src/nlu/evaluate.js";
import { Session } from "../src/dialogue/session.js";

// Built to dist/bench/run.js: two levels up is the project root, where intents/ and tests/ live.
const projectRoot = new URL("../..", import.meta.url).pathname;
const rows: [string, string][] = [];
const report = (name: string, value: string) => {
  rows.push([name, value]);
  console.log(`${name.padEnd(46)} ${value}`);
};
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function benchNlu(shop: SqlShop) {
  const matcher = new IntentMatcher(loadGrammar(join(projectRoot, "intents"), "en"), shop.index.scorer("en"));
  const utterances = parseLabelledTsv(readFileSync(join(projectRoot, "tests/nlu/en.tsv"), "utf8"), "en.tsv").map((r) => r.text);
  for (const u of utterances.slice(0, 50)) matcher.parse(u); // warm-up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < 3000) matcher.parse(utterances[n++ % utterances.length]);
  report("NLU parses/s (en labelled set)", ((n / (performance.now() - start)) * 1000).toFixed(0));
  return matcher;
}

async function benchTurns(shop: SqlShop, matcher: IntentMatcher) {
  const script = ["add two packs of coffee", "add three bananas", "what's in my cart", "how much is the lego city fire station",
    "do you have puzzles", "the first one", "remove it", "check out", "no", "where is my order"];
  const latencies: number[] = [];
  const keys = new Map<string, number>();
  for (let round = 0; round < 30; round++) {
    const session = new Session({ matcher, shop, shopperId: "demo", locale: "en" });
    for (const line of script) {
      const t = await session.turn(line);
      latencies.push(t.ms);
      keys.set(t.replyKey, (keys.get(t.replyKey) ?? 0) + 1);
    }
    session.stop();
    await shop.clearCart("demo");
  }
  report("typed turn latency p50 / p95 (ms)", `${percentile(latencies, 50).toFixed(1)} / ${percentile(latencies, 95).toFixed(1)}  (${latencies.length} turns: ${[...keys].map(([k, n]) => `${k} ${n}`).join(", ")})`);
}

/** Orders/s through placeOrder (a full transaction), and raw autocommitted single-row INSERTs/s on the same connection. */
async function benchStore(label: string, database: Database) {
  const shop = await SqlShop.open(database);
  const db = database.db;
  await db.updateTable("products").set({ stock: 10_000_000 }).where("id", "in", ["chiquita-bananas", "lavazza-crema-1kg"]).execute();
  const orders = 2000;
  let placeMs = 0;
  for (let i = 0; i < orders; i++) {
    await shop.addToCart("demo", "chiquita-bananas", 1);
    await shop.addToCart("demo", "lavazza-crema-1kg", 2);
    const t = performance.now();
    await shop.placeOrder("demo", `bench-${label}-${Date.now()}-${i}`);
    placeMs += performance.now() - t;
  }
  await sql`create table if not exists bench_raw (id integer primary key, note text not null)`.execute(db);
  await sql`delete from bench_raw`.execute(db);
  const inserts = 2000;
  const t = performance.now();
  for (let i = 0; i < inserts; i++) await sql`insert into bench_raw (id, note) values (${i}, ${"x"})`.execute(db);
  const insertMs = performance.now() - t;
  report(`${label}: orders/s (placeOrder, 2-line cart)`, `${((orders / placeMs) * 1000).toFixed(0)}   vs raw single-row INSERT/s ${((inserts / insertMs) * 1000).toFixed(0)}`);
  await shop.close();
}

const dir = mkdtempSync(join(tmpdir(), "talkcart-bench-"));
try {
  console.log(`talkcart bench — Node ${process.version}, ${new Date().toISOString()}`);
  const shop = await SqlShop.open(await openSqlite(join(dir, "demo.sqlite")));
  const matcher = await benchNlu(shop);
  await benchTurns(shop, matcher);
  await shop.close();
  await benchStore("SQLite (WAL, synchronous=FULL)", await openSqlite(join(dir, "orders.sqlite")));
  const pgUrl = process.env.TALKCART_BENCH_PG_URL ?? process.env.DATABASE_URL;
  if (pgUrl) {
    const admin = await openPostgres(pgUrl);
    const name = `talkcart_bench_${Date.now()}`;
    await sql.raw(`create database ${name}`).execute(admin.db);
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    await benchStore("PostgreSQL", await openPostgres(url.toString()));
    await sql.raw(`drop database ${name}`).execute(admin.db);
    await admin.db.destroy();
  } else {
    report("PostgreSQL", "skipped (set TALKCART_BENCH_PG_URL=postgres://... to include it)");
  }
  report("peak RSS (MB), text pipeline and stores", (process.resourceUsage().maxRSS / 1024).toFixed(0));
  // The voice figures run in their own process: their peak RSS is the voice pipeline's alone.
  if (process.env.TALKCART_BENCH_VOICE === "0") report("voice", "skipped (TALKCART_BENCH_VOICE=0)");
  else spawnSync(process.execPath, [join(projectRoot, "dist/bench/voice.js")], { stdio: "inherit" });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
