#!/usr/bin/env -S node --max-semi-space-size=4
// The flag fixes V8's young generation at 4 MB semi-spaces, what V8 picks by itself on a 1 GB
// machine (it scales them with memory: 1 MB at 512 MB, 16 MB from 4 GB up). Over 100 spoken turns on a 24 GB
// machine, peak RSS 186-189 MB against 202-209 with 16 MB (`bench/voice-rss.ts`, same CPU); 2 MB
// promoted more to the old generation and saved nothing. `npm start`, device/talkcart.service and
// the benchmark's RSS process run node with the flags of this line (tests/cli.test.ts checks).
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) and `npm start` (prestart).
import { existsSync } from "node:fs";
const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("talkcart is not built yet: run `npm install` (or `npm run build`) in the project folder.");
  process.exit(1);
}
await import(entry.href);
