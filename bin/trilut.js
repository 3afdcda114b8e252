#!/usr/bin/env node
// The trilut command line; the code lives in dist/ (built by `npm run build`).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "src", "cli", "main.js");
if (!existsSync(main)) {
  console.error("trilut: not built yet; run `npm run build` (or `npm run demo`) first");
  process.exit(2);
}
await import(pathToFileURL(main).href);
