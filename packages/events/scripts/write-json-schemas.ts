// Regenerates packages/events/schemas/*.json (events) and schemas/http/*.json (HTTP API bodies)
// from the zod schemas (`pnpm events:schemas`). The contract test fails when the committed files
// differ from what this writes.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { httpJsonSchemas, jsonSchemas } from "../src/json-schema";

const write = (dir: string, schemas: Record<string, object>) => {
  mkdirSync(dir, { recursive: true });
  for (const [name, schema] of Object.entries(schemas)) writeFileSync(`${dir}${name}.json`, JSON.stringify(schema, null, 2) + "\n");
  console.log(`wrote ${Object.keys(schemas).length} schemas to ${dir}`);
};
write(fileURLToPath(new URL("../schemas/", import.meta.url)), jsonSchemas());
write(fileURLToPath(new URL("../schemas/http/", import.meta.url)), httpJsonSchemas());
