#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) and `npm start` (prestart).
import { existsSync } from "node:fs";
const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("talkcart is not built yet: run `npm install` (or `npm run build`) in the project folder.");
  process.exit(1);
}
await import(entry.href);
