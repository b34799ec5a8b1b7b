import { z } from "zod";
import { jobParamsSchema } from "@reelbridge/events";
import { uploadContentTypes } from "./keys";
import type { FieldIssue } from "./errors";

/**
 * What the browser sends to POST /uploads: the job parameters minus what the server decides
 * (jobId, owner, createdAt), plus the file's type so the policy can pin Content-Type exactly.
 * Derived from the contract so the two cannot drift; music is checked against the catalog the
 * caller passes in (the catalog lives in remotion/src/music.ts).
 */
export function uploadRequestSchema(musicIds: readonly string[]) {
  const known = new Set(musicIds);
  return jobParamsSchema.omit({ jobId: true, owner: true, createdAt: true }).extend({
    music: z.string().refine((id) => known.has(id), `must be one of the music catalog's ids: ${[...known].join(", ")}`),
    contentType: z.enum(uploadContentTypes, `must be one of ${uploadContentTypes.join(", ")}`),
  });
}
export type UploadRequest = z.infer<ReturnType<typeof uploadRequestSchema>>;

/** zod issues as the 400 body's details, each naming its field ("(body)" for the whole body). */
export function fieldIssues(err: z.ZodError): FieldIssue[] {
  return err.issues.map((i) => ({ field: i.path.map(String).join(".") || "(body)", message: i.message }));
}
