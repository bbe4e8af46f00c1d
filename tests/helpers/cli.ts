import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = join(import.meta.dirname, "../..");
const CLI = join(ROOT, "src/cli/main.ts");

/**
 * Runs the real CLI (through tsx, so no build is needed) in its own data folder; stdin gets
 * `input` (or nothing) and is closed. Resolves to the exit code and both streams.
 */
export async function talkcart(args: string[], opts: { input?: string | Buffer; data?: string; env?: NodeJS.ProcessEnv } = {}) {
  const data = opts.data ?? mkdtempSync(join(tmpdir(), "talkcart-cli-"));
  const child = run(process.execPath, ["--import", "tsx", CLI, ...args, "--data", data], {
    cwd: ROOT, env: opts.env ?? { ...process.env, DATABASE_URL: "" }, maxBuffer: 16 << 20,
  });
  child.child.stdin!.end(opts.input ?? "");
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr, data };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, data };
  }
}
