// Initial JavaScript (the entry and everything it imports statically) and each lazily loaded chunk, gzipped.
//   node scripts/bundle-size.mjs [--max-initial-kb 500]   (after `vite build`; exit 1 over the budget)
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const dist = new URL("../dist/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, ".vite/manifest.json"), "utf8"));
const maxArg = process.argv.indexOf("--max-initial-kb");
const maxKb = maxArg > 0 ? Number(process.argv[maxArg + 1]) : 500;
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;

const entry = Object.values(manifest).find((c) => c.isEntry);
const initial = new Set();
(function walk(chunk) {
  if (initial.has(chunk.file)) return;
  initial.add(chunk.file);
  for (const key of chunk.imports ?? []) walk(manifest[key]);
})(entry);

const kb = (n) => (n / 1024).toFixed(1).padStart(7) + " KB";
let initialBytes = 0;
console.log("initial (loaded by index.html):");
for (const f of initial) {
  const n = gz(f);
  initialBytes += n;
  console.log(`  ${kb(n)}  ${f}`);
}
console.log(`  ${kb(initialBytes)}  total gzipped (budget ${maxKb} KB)`);
console.log("on demand:");
for (const c of Object.values(manifest)) {
  if (!c.file.endsWith(".js") || initial.has(c.file)) continue;
  console.log(`  ${kb(gz(c.file))}  ${c.file}${c.isDynamicEntry ? "  (lazy)" : ""}`);
}
if (initialBytes > maxKb * 1024) {
  console.error(`initial JavaScript ${kb(initialBytes).trim()} gzipped is over the ${maxKb} KB budget`);
  process.exit(1);
}
