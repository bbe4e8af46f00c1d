import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Where a program is on PATH: the first directory with an executable file of that name, or null (as `which` does). */
export function which(program: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // not in this directory
    }
  }
  return null;
}
