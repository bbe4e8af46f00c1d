import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

/** Where a program is on PATH: the first directory that has it, or null. */
export function which(program: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  }
  return null;
}
