#!/usr/bin/env -S node --max-semi-space-size=4
// The flag (V8's young generation: 4 MB semi-spaces instead of 16) keeps ~18 MB of peak RSS off a
// voice session (`npm run bench`: 186-189 MB against 202-209 over 100 spoken turns, same CPU);
// smaller (2 MB) promoted more to the old generation and saved nothing. The benchmark starts its
// RSS process with the flags of this line (bench/voice.ts), so keep them here only.
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) and `npm start` (prestart).
import { existsSync } from "node:fs";
const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("talkcart is not built yet: run `npm install` (or `npm run build`) in the project folder.");
  process.exit(1);
}
await import(entry.href);
