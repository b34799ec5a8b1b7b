import { z } from "zod";
import { detailTypes, pipelineEvents } from "./events";
import { httpContracts } from "./http";
import { s3ObjectCreatedEventSchema } from "./s3";

/**
 * JSON Schemas (draft 2020-12 by default; draft 4 for the EventBridge schema registry) generated from the zod schemas: one per event, for the whole
 * event as EventBridge delivers it. Committed under packages/events/schemas/ and loaded into
 * the EventBridge schema registry, so other teams can validate without TypeScript.
 */
export function jsonSchemas(opts: { target?: "draft-2020-12" | "draft-4" } = {}): Record<string, object> {
  const target = opts.target ?? "draft-2020-12";
  const out: Record<string, object> = {};
  for (const type of detailTypes) {
    const def = pipelineEvents[type];
    out[`${type}.v1`] = {
      ...z.toJSONSchema(def.event, { io: "output", unrepresentable: "throw", target }),
      $id: `https://schemas.reelbridge.dev/events/${type}.v1.json`,
      title: type,
      description: `${def.summary} ${def.emittedWhen} Source: ${def.source}.`,
    };
  }
  out["S3ObjectCreated"] = {
    ...z.toJSONSchema(s3ObjectCreatedEventSchema, { io: "output", unrepresentable: "throw", target }),
    $id: "https://schemas.reelbridge.dev/events/S3ObjectCreated.json",
    title: "Object Created",
    description: "S3's Object Created event as EventBridge delivers it for a presigned POST upload (AWS-owned; reelbridge reads it).",
  };
  return out;
}

/**
 * JSON Schemas (draft 2020-12) of the HTTP APIs' bodies (src/http.ts), committed under
 * packages/events/schemas/http/. Not events, so not in the schema registry. The request is
 * described as a client sends it (io "input"), answers as the APIs send them.
 */
export function httpJsonSchemas(): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [name, c] of Object.entries(httpContracts)) {
    out[name] = {
      ...z.toJSONSchema(c.schema, { io: c.io, unrepresentable: "throw", target: "draft-2020-12" }),
      $id: `https://schemas.reelbridge.dev/http/${name}.json`,
      title: name,
      description: c.summary,
    };
  }
  return out;
}
