// Regenerates packages/events/schemas/*.json from the zod schemas (`pnpm events:schemas`).
// The contract test fails when the committed files differ from what this writes.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jsonSchemas } from "../src/json-schema";

const dir = fileURLToPath(new URL("../schemas/", import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(`${dir}${name}.json`, JSON.stringify(schema, null, 2) + "\n");
}
console.log(`wrote ${Object.keys(jsonSchemas()).length} schemas to ${dir}`);
