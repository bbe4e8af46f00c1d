import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqlShop } from "../../src/shop/sql-shop.js";
import { backends } from "../helpers/backends.js";

const writer = join(import.meta.dirname, "order-writer.ts");

/** Runs the writer until it has reported `atLeast` committed orders plus a random extra moment, then kill -9. */
function runAndKill(target: string, prefix: string, atLeast: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", writer, target, prefix], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let killing = false;
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      const reported = out.split("\n").filter((l) => l.startsWith(prefix)).length;
      if (!killing && reported >= atLeast) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), Math.random() * 50);
      }
    });
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("exit", (code, signal) => {
      if (signal !== "SIGKILL") return reject(new Error(`writer exited with ${code}: ${err}`));
      // Only complete lines count: a line cut by the kill was not fully reported.
      resolve(out.split("\n").slice(0, -1).filter((l) => l.startsWith(prefix)).map((l) => l.split(" ")[0]));
    });
  });
}

describe.each(backends)("kill -9 on $name", (backend) => {
  it("keeps every order the writer reported as committed (3 kills)", async () => {
    const target = await backend.create();
    let reportedTotal = 0;
    for (let trial = 0; trial < 3; trial++) {
      const reported = await runAndKill(target, `t${trial}`, 100 + trial * 50);
      reportedTotal += reported.length;
      const database = await backend.open(target);
      const shop = await SqlShop.open(database);
      const keys = new Set((await database.db.selectFrom("orders").select("idempotency_key").where("idempotency_key", "like", `t${trial}-%`).execute()).map((r) => r.idempotency_key));
      const lost = reported.filter((k) => !keys.has(k));
      expect(lost, `orders reported committed but missing after kill -9`).toEqual([]);
      // Nothing half-done either: every stored order has its line.
      const orphans = await database.db.selectFrom("orders").leftJoin("order_lines", "order_lines.order_id", "orders.id")
        .select("orders.id").where("order_lines.order_id", "is", null).execute();
      expect(orphans).toEqual([]);
      await shop.close();
    }
    expect(reportedTotal).toBeGreaterThanOrEqual(450);
  }, 120_000);
});
