import { createHash } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { DetailType, JobCost, PipelineEvent } from "@reelbridge/events";
import type { JobRecord } from "../ports";
import { sumCost } from "../jobs/cost";

/** The pipeline events the notifier turns into webhooks. */
export const notifiedTypes = ["RenderCompleted", "SegmentsReady", "VideoBaseFailed", "RenderFailed", "SegmentsFailed", "JobCancelled"] as const satisfies readonly DetailType[];
export type NotifiedType = (typeof notifiedTypes)[number];
export type NotifiedEvent = PipelineEvent<NotifiedType>;

/** Webhook `type`s (Standard Webhooks: dotted, `{group}.{event}`). Public contract. */
export type WebhookType = "video.completed" | "video.segments_ready" | "video.failed" | "video.cancelled";

export interface WebhookLinks {
  /** The job in the status API (durable; needs the caller's credentials where auth is on). */
  status?: string;
  /** The final MP4 (time-limited presigned GET). */
  video?: string;
  /** The HLS playlist, only where the media is served from a public origin (see links.ts). */
  hls?: string;
  /** The poster JPEG (time-limited presigned GET). */
  poster?: string;
}

/**
 * The webhook body: thin, per the Standard Webhooks recommendation (type, timestamp, data
 * with links, never media). A few hundred bytes plus the links.
 */
export interface WebhookPayload {
  type: WebhookType;
  /** When the pipeline event happened (its metadata.time), ISO 8601. */
  timestamp: string;
  data: {
    jobId: string;
    /** "completed" once the final video exists; "failed" when a step ended the job; "cancelled" when its owner did. */
    status: "completed" | "failed" | "cancelled";
    /** The render version the webhook is about, for a re-render (2…); absent for the job's first render. */
    version?: number;
    title?: string;
    /** The pipeline event behind this webhook, for support and replays. */
    event: { id: string; type: NotifiedType };
    links: WebhookLinks;
    /** Packaging summary on video.segments_ready. */
    segments?: { hlsMode: "copy" | "reencode"; clips: number };
    /** On video.failed: which step failed and why (stable code, human message). */
    failedStep?: "ingest" | "render" | "segmenter";
    reason?: { code: string; message: string };
    /**
     * What the job has cost so far (issue #13 item 1): the job record's lines with their basis and
     * total, plus this event's own step lines when the record does not have them yet. On
     * video.failed: what the failed job cost. Absent when the job has no record to read.
     */
    cost?: JobCost;
  };
}

/** Lines a webhook carries at most (the record's are already one per item; this only bounds a hostile record). */
export const WEBHOOK_COST_LINES_LIMIT = 40;

/**
 * The job's cost so far for a webhook: the record's cost, with the notified event's own
 * `stepCost` added when the DB writer has not recorded that event yet (the two run side by
 * side), so the failing step's cost is in its video.failed. Undefined without a record or lines.
 */
export function webhookCost(record: Pick<JobRecord, "cost" | "timeline"> | undefined, event: NotifiedEvent): JobCost | undefined {
  const recorded = record?.timeline.some((t) => t.eventId === event.detail.metadata.eventId) ?? false;
  const own = recorded ? [] : ((event.detail.data as { stepCost?: JobCost }).stepCost?.lines ?? []);
  const lines = [...(record?.cost?.lines ?? []), ...own];
  if (!lines.length) return undefined;
  return sumCost(lines.slice(0, WEBHOOK_COST_LINES_LIMIT).map((l) => ({ ...l, basis: l.basis.slice(0, 500) })));
}

export function webhookTypeOf(type: NotifiedType): WebhookType {
  switch (type) {
    case "RenderCompleted":
      return "video.completed";
    case "SegmentsReady":
      return "video.segments_ready";
    case "JobCancelled":
      return "video.cancelled";
    default:
      return "video.failed";
  }
}

const failedStep = { VideoBaseFailed: "ingest", RenderFailed: "render", SegmentsFailed: "segmenter" } as const;

export function webhookPayload(event: NotifiedEvent, links: WebhookLinks, cost?: JobCost): WebhookPayload {
  const type = event["detail-type"];
  const { metadata, data } = event.detail;
  const job = (data as { job?: { title: string } }).job;
  const version = (data as { version?: unknown }).version;
  const base = {
    jobId: metadata.jobId,
    ...(typeof version === "number" && version > 1 ? { version } : {}),
    ...(job ? { title: job.title } : {}),
    event: { id: metadata.eventId, type },
    links,
    ...(cost ? { cost } : {}),
  };
  switch (type) {
    case "RenderCompleted":
      return { type: "video.completed", timestamp: metadata.time, data: { ...base, status: "completed" } };
    case "SegmentsReady": {
      const d = (event as PipelineEvent<"SegmentsReady">).detail.data;
      return {
        type: "video.segments_ready",
        timestamp: metadata.time,
        data: { ...base, status: "completed", segments: { hlsMode: d.hls.mode, clips: d.clips.length } },
      };
    }
    case "JobCancelled":
      return { type: "video.cancelled", timestamp: metadata.time, data: { ...base, status: "cancelled" } };
    default: {
      const reason = (event as PipelineEvent<"VideoBaseFailed" | "RenderFailed" | "SegmentsFailed">).detail.data.reason;
      return {
        type: "video.failed",
        timestamp: metadata.time,
        data: { ...base, status: "failed", failedStep: failedStep[type], reason: { code: reason.code, message: reason.message.slice(0, 1000) } },
      };
    }
  }
}

/**
 * The Standard Webhooks `webhook-id` of one pipeline event to one endpoint: the same for every
 * retry and every duplicate delivery of the event, different per endpoint (so one endpoint's
 * dedup store never suppresses another's). No "." (the spec forbids it in ids).
 */
export function webhookIdFor(notifiedEventId: string, endpointUrl: string): string {
  return `msg_${createHash("sha256").update(`${notifiedEventId}\n${endpointUrl}`).digest("base64url").slice(0, 32)}`;
}

/** A short stable digest of an endpoint URL, for state record names. */
export function endpointKey(url: string): string {
  return createHash("sha256").update(url).digest("hex").slice(0, 24);
}

/** The three Standard Webhooks headers for one attempt; `timestamp` is the attempt's time. */
export function signWebhook(secret: string, webhookId: string, timestamp: Date, body: string): Record<string, string> {
  return {
    "webhook-id": webhookId,
    "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(webhookId, timestamp, body),
  };
}

/** Scheme, host and path: what NotificationDelivered/Failed may echo (queries can hold tokens). */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
