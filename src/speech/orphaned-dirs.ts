import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Folders that processes now gone left behind: named `<prefix><pid>-...` (as mkdtemp makes them
 * with the pid in the prefix). A process killed by a signal never runs its cleanup. Only real
 * directories of this user count (/tmp and data folders may be shared); a pid that is alive again
 * (reused) only keeps a folder a while longer. A folder that cannot be listed has none.
 */
export function orphanedDirs(dir: string, prefix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => {
    const pid = name.startsWith(prefix) ? Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]) : 0;
    if (!pid || pid === process.pid || isAlive(pid)) return false;
    try {
      // (mkdtemp makes it 0700: once it is ours and no symlink, no one else can have put a link inside)
      const stat = lstatSync(join(dir, name));
      return stat.isDirectory() && stat.uid === process.getuid?.();
    } catch {
      return false; // removed meanwhile
    }
  }).map((name) => join(dir, name));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}
