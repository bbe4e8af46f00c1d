import { createRequire } from "node:module";

/** mallopt's parameter number for the mmap threshold (glibc malloc.h). */
const M_MMAP_THRESHOLD = -3;
/** glibc's own starting value: blocks this large or larger are mapped on their own. */
export const MMAP_THRESHOLD = 128 * 1024;

let done: boolean | undefined;

/**
 * Keeps glibc from holding on to the native decoders' large blocks.
 *
 * glibc maps blocks of 128 kB or more on their own at first. The first time it frees one, it raises
 * that threshold (up to 32 MB) and from then on serves such blocks from its arenas. Arenas keep
 * freed memory. The decoders allocate and free large blocks every utterance, from koffi's worker
 * threads, and each of those threads has an arena of its own. Over the 100 replayed turns of
 * bench/voice-rss this grew the process by 60 MB: peak RSS 287 MB, and 227 MB with the threshold
 * fixed. Fixing it is what `MALLOC_MMAP_THRESHOLD_=131072` does. A threshold set in the environment
 * (that variable, or `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...`) is left alone, and so is a C
 * library that is not glibc.
 *
 * Process-wide and idempotent. Returns whether the threshold is fixed.
 */
export function keepLargeBlocksMapped(): boolean {
  if (done !== undefined) return done;
  done = false;
  const setByUser = process.env.MALLOC_MMAP_THRESHOLD_ !== undefined || /mmap_threshold/.test(process.env.GLIBC_TUNABLES ?? "");
  if (process.platform !== "linux" || setByUser) return done;
  try {
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    const mallopt = koffi.load("libc.so.6").func("int mallopt(int param, int value)") as (param: number, value: number) => number;
    done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) === 1;
  } catch {
    // not glibc (musl loads as "libc.so.6" too, but has no mallopt), or no koffi: nothing to tune
  }
  return done;
}
