import type { z } from "zod";
import type { FieldIssue } from "./errors";

/**
 * What the browser sends to POST /uploads. The schema is the published HTTP contract
 * (packages/events/src/http.ts), derived from the job parameters so the two cannot drift; music
 * is checked against the catalog the caller passes in (the catalog lives in remotion/src/music.ts).
 */
export { uploadRequestSchema } from "@reelbridge/events/http";
export type { UploadRequest } from "@reelbridge/events/http";

/** zod issues as the 400 body's details, each naming its field ("(body)" for the whole body). */
export function fieldIssues(err: z.ZodError): FieldIssue[] {
  return err.issues.map((i) => ({ field: i.path.map(String).join(".") || "(body)", message: i.message }));
}
