import { z } from "zod";
import { jobIdSchema } from "./job";

/**
 * The one envelope of every pipeline event's `detail`:
 *
 *   detail = { metadata: { eventId, schemaVersion, jobId, causationId, producer, time }, data: { … } }
 *
 * Why: EventBridge's own envelope (id, source, detail-type, time) is assigned by the bus and
 * changes on replay or cross-bus forwarding, so the identity a consumer dedups on and the links
 * between events (jobId = correlation id, causationId = the id of the event that caused this
 * one) must live inside `detail`. `data` holds the step's own state, which is everything the
 * next step needs (event-carried state transfer).
 */
export const SCHEMA_VERSION = "1" as const;

export const metadataSchema = z.object({
  /** Unique per logical event, stable across redeliveries and replays: the dedup key. */
  eventId: z.string().min(1).max(128),
  /** Major version of this event's schema. Additive changes keep it; breaking ones bump it. */
  schemaVersion: z.literal(SCHEMA_VERSION),
  /** Correlation id: every event of one job carries the same jobId. */
  jobId: jobIdSchema,
  /** eventId of the event that caused this one (the S3 event's id for the first step). */
  causationId: z.string().min(1).max(128),
  /** The function that emitted the event, e.g. "ltx-step". */
  producer: z.string().min(1).max(64),
  /** When the producer emitted it (ISO 8601, UTC). */
  time: z.iso.datetime({ offset: true }),
});
export type EventMetadata = z.infer<typeof metadataSchema>;

export const envelopeSchema = <D extends z.ZodType>(data: D) =>
  z.object({
    metadata: metadataSchema,
    data,
  });

/**
 * An event as EventBridge delivers it to a target (the fields AWS sets around `detail`).
 * `detail-type` and `source` are narrowed per event by the callers.
 */
export const eventBridgeEnvelopeSchema = <DT extends string, S extends string, D extends z.ZodType>(
  detailType: DT,
  source: S,
  detail: D,
) =>
  z.looseObject({
    version: z.literal("0"),
    id: z.string().min(1),
    "detail-type": z.literal(detailType),
    source: z.literal(source),
    account: z.string(),
    time: z.string(),
    region: z.string(),
    resources: z.array(z.string()),
    detail,
  });
