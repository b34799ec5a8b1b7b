import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PipelineEvent } from "@reelbridge/events";
import type { NotifiedEvent, NotifiedType } from "../../../src/notify/webhook";

const samples = join(__dirname, "../../../../events/samples/v1");

/** A sample pipeline event (cloned), with the job's callback URL replaced. */
export function sample<T extends NotifiedType>(type: T, opts: { callbackUrl?: string | null; eventId?: string } = {}): PipelineEvent<T> & NotifiedEvent {
  const e = JSON.parse(readFileSync(join(samples, `${type}.json`), "utf8")) as PipelineEvent<T> & NotifiedEvent;
  const job = (e.detail.data as { job?: { callbackUrl?: string } }).job;
  if (job && opts.callbackUrl === null) delete job.callbackUrl;
  else if (job && typeof opts.callbackUrl === "string") job.callbackUrl = opts.callbackUrl;
  if (opts.eventId) e.detail.metadata.eventId = opts.eventId;
  return e;
}

/** A valid `whsec_` secret (24 random-looking bytes, base64). */
export const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
