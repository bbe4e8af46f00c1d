import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { logFile, removeOrphanedLogDirs } from "./pocketsphinx-native.js";

describe("pocketsphinx log directories", () => {
  it("are named by pid, and those of processes that are gone are removed", () => {
    const dir = mkdtempSync(join(tmpdir(), "talkcart-logdirs-"));
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!; // a process that has exited
    const names = {
      gone: `talkcart-pocketsphinx-${gone}-a1b2c3`,
      alive: `talkcart-pocketsphinx-${process.ppid}-d4e5f6`,
      own: `talkcart-pocketsphinx-${process.pid}-g7h8i9`,
      unnamed: "talkcart-pocketsphinx-Xy12Zq", // no pid in the name: nothing to go by
      other: "someone-elses-dir",
      link: `talkcart-pocketsphinx-${gone}-link`, // a symlink, even with a dead pid, is left alone
    };
    const target = mkdtempSync(join(tmpdir(), "talkcart-link-target-"));
    writeFileSync(join(target, "keep"), "");
    for (const name of Object.values(names)) {
      if (name === names.link) {
        symlinkSync(target, join(dir, name));
        continue;
      }
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, "pocketsphinx.log"), "INFO: ...\n");
    }
    removeOrphanedLogDirs(dir);
    expect(existsSync(join(dir, names.gone))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual([names.alive, names.own, names.unnamed, names.other, names.link].sort());
    expect(existsSync(join(target, "keep"))).toBe(true);
    expect(basename(dirname(logFile()))).toMatch(new RegExp(`^talkcart-pocketsphinx-${process.pid}-`));
  });
});
