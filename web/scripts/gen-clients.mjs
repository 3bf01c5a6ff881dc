// Typed API clients: web/src/api/<service>.d.ts from each service's OpenAPI document (openapi-typescript).
//   node scripts/gen-clients.mjs IN_DIR OUT_DIR
// IN_DIR holds <service>.json as written by `python -m devtools.openapi --out IN_DIR` (see `make web-clients`).
import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";

const [inDir, outDir] = process.argv.slice(2);
if (!inDir || !outDir) {
  console.error("usage: node scripts/gen-clients.mjs IN_DIR OUT_DIR");
  process.exit(2);
}
await mkdir(outDir, { recursive: true });
const files = (await readdir(inDir)).filter((f) => f.endsWith(".json")).sort();
if (files.length === 0) {
  console.error(`no OpenAPI documents in ${inDir}`);
  process.exit(1);
}
for (const file of files) {
  const service = file.replace(/\.json$/, "");
  const doc = JSON.parse(await readFile(join(inDir, file), "utf8"));
  const ast = await openapiTS(doc, { alphabetize: true });
  const header =
    `// Generated from the ${service} service's OpenAPI by \`make web-clients\` (openapi-typescript). Do not edit:\n` +
    `// \`make test\` fails when this file differs from what the service's API describes.\n\n`;
  await writeFile(join(outDir, `${service}.d.ts`), header + astToString(ast));
  console.log(join(outDir, `${service}.d.ts`));
}
