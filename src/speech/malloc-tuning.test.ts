import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { keepLargeBlocksMapped } from "./malloc-tuning.js";

/**
 * Allocates and frees a 1 MB block, and says whether glibc had mapped it on its own. The chunk
 * header sits just before the pointer, and its IS_MMAPPED bit is 0x2. This is CommonJS source, so
 * that a fresh process can run the same probe as the control.
 */
const PROBE = `(() => {
  const koffi = require("koffi");
  const libc = koffi.load("libc.so.6");
  const malloc = libc.func("void *malloc(size_t)");
  const free = libc.func("void free(void *)");
  return () => {
    const p = malloc(1 << 20);
    const header = BigInt(koffi.decode(p, -koffi.sizeof("size_t"), "size_t")); // the chunk's size word
    free(p);
    return (header & 2n) !== 0n;
  };
})()`;

const glibc = !!(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;

describe.skipIf(!glibc || process.env.MALLOC_MMAP_THRESHOLD_ !== undefined || /mmap_threshold/.test(process.env.GLIBC_TUNABLES ?? ""))("keepLargeBlocksMapped (glibc)", () => {
  it("is needed: without it, a large block comes from the arena once one has been freed", () => {
    const script = `const probe = ${PROBE}; console.log(JSON.stringify([probe(), probe(), probe()]));`;
    const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([true, false, false]);
  });

  it("keeps every large block mapped on its own, so freeing it gives the memory back", () => {
    expect(keepLargeBlocksMapped()).toBe(true);
    const probe = new Function("require", `return ${PROBE}`)(createRequire(import.meta.url)) as () => boolean;
    expect([probe(), probe(), probe()]).toEqual([true, true, true]);
    expect(keepLargeBlocksMapped()).toBe(true); // once per process: asking again changes nothing
  });
});
