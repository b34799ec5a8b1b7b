import { randomUUID } from "node:crypto";
import type { S3ObjectCreatedEvent } from "@reelbridge/events";

/** S3 URL-encodes keys in its events (space as "+"); decodeS3Key in @reelbridge/events undoes it. */
export const encodeEventKey = (key: string): string => key.split("/").map((s) => encodeURIComponent(s).replace(/%20/g, "+")).join("/");

let lastSequencer = 0n;
/** Hex, increasing per object write like S3's (orders events for the same key). */
export function nextSequencer(now: Date): string {
  let s = BigInt(now.getTime()) * 1_000_000n;
  if (s <= lastSequencer) s = lastSequencer + 1n;
  lastSequencer = s;
  return s.toString(16).toUpperCase().padStart(18, "0");
}

/** The "Object Created" event for a stored object (browser POST by default), as EventBridge delivers it on the default bus. */
export function objectCreatedEvent(o: {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  region: string;
  account: string;
  requestId: string;
  sourceIp: string;
  time: Date;
  /** S3's detail.reason: "POST Object" for browser uploads, "PutObject" for the REST PUT. */
  reason?: "POST Object" | "PutObject";
}): S3ObjectCreatedEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Object Created",
    source: "aws.s3",
    account: o.account,
    time: o.time.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: o.region,
    resources: [`arn:aws:s3:::${o.bucket}`],
    detail: {
      version: "0",
      "event-version": "1.0",
      bucket: { name: o.bucket },
      object: { key: encodeEventKey(o.key), size: o.size, etag: o.etag, sequencer: nextSequencer(o.time) },
      "request-id": o.requestId,
      requester: o.account,
      "source-ip-address": o.sourceIp,
      reason: o.reason ?? "POST Object",
    },
  };
}
