import { z } from "zod";
import { failureReasonSchema, jobParamsSchema, objectRefSchema, videoInfoSchema } from "@reelbridge/events";

/**
 * The render step's own state, one record per job in the StepStateStore (name "render"). It is
 * written by startRender and read by the webhook and the watchdog: this component's own state,
 * so it carries what RenderCompleted/RenderFailed need (job params, base clip, expected output
 * geometry at the render scale) without reading anyone else's database (ARCHITECTURE.md, principle 3).
 *
 * Lifecycle: starting (claimed, Remotion not yet called) → started (renderId recorded)
 *            → completed | failed | cancelled;  starting → start-failed (permanent start error).
 * One record per render version (`renderStateName`).
 */
export const RENDER_STATE = "render";

/**
 * The render record of one version (docs/decisions/0009): version 1 (the job's first render) is
 * `render`, as it always was; version N ≥ 2 is `render:v{N}`.
 */
export const renderStateName = (version = 1): string => (version <= 1 ? RENDER_STATE : `${RENDER_STATE}:v${version}`);

/** The version an event's data names (absent: 1, the job's first render). */
export const versionOf = (data: unknown): number => {
  const v = (data as { version?: unknown } | null | undefined)?.version;
  return typeof v === "number" && Number.isInteger(v) && v >= 1 ? v : 1;
};

/** `{ version }` for an event's data: nothing for version 1, so its events stay as they were. */
export const versionField = (version: number): { version?: number } => (version > 1 ? { version } : {});

/** One terminal outcome per render, shared by the webhook and the watchdog. */
export const outcomeStateName = (renderId: string) => `render-outcome:${renderId}`;
/** Claims of a re-start after a crashed start; only one concurrent taker wins each attempt. */
export const restartClaimName = (attempt: number, version = 1) => (version > 1 ? `render-restart:v${version}:${attempt}` : `render-restart:${attempt}`);

export const renderStatusSchema = z.enum(["starting", "started", "start-failed", "completed", "failed", "cancelled"]);
export type RenderStatus = z.infer<typeof renderStatusSchema>;

export const expectedVideoSchema = z.object({
  durationSeconds: z.number().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number().positive(),
});
export type ExpectedVideo = z.infer<typeof expectedVideoSchema>;

export const renderRecordSchema = z.looseObject({
  status: renderStatusSchema,
  /** 1 for the first start; +1 for each re-start of a crashed start. */
  attempt: z.number().int().positive(),
  /** When this attempt was claimed (ISO). */
  claimedAt: z.string().min(1),
  renderer: z.string().min(1),
  compositionId: z.string().min(1),
  job: jobParamsSchema,
  baseVideo: videoInfoSchema,
  output: objectRefSchema,
  /** The output geometry at `scale`: what RenderCompleted announces and the job record keeps. */
  expected: expectedVideoSchema,
  /**
   * The render scale the claim decided (absent: the request carries none, i.e. 1). A re-start
   * of a crashed start asks for this same scale, so `expected` stays true.
   */
  scale: z.number().positive().max(16).optional(),
  /** The render version (absent: 1, the job's first render). */
  version: z.number().int().min(1).optional(),
  /** eventId of the VideoBaseReady (or RenderRequested) that started it. */
  causationId: z.string().min(1),
  renderId: z.string().min(1).optional(),
  /** Remotion's own bucket (progress.json lives there): getRenderProgress needs it. */
  bucketName: z.string().min(1).optional(),
  startedAt: z.string().min(1).optional(),
  startedEventId: z.string().min(1).optional(),
  startedPublished: z.boolean().optional(),
  failure: failureReasonSchema.optional(),
  /** A transient start error released the claim: the next delivery may start at once. */
  released: z.boolean().optional(),
  lastError: z.string().optional(),
});
export type RenderRecord = z.infer<typeof renderRecordSchema>;

export const parseRenderRecord = (value: Record<string, unknown> | undefined): RenderRecord | undefined => {
  if (!value) return undefined;
  const r = renderRecordSchema.safeParse(value);
  return r.success ? r.data : undefined;
};

/** Deterministic event ids: the same logical event always gets the same id (dedup key). */
export const eventIds = {
  started: (jobId: string, renderId: string) => `${jobId}:render-started:${renderId}`,
  completed: (jobId: string, renderId: string) => `${jobId}:render-completed:${renderId}`,
  failed: (jobId: string, renderId: string | undefined, version = 1) => `${jobId}:render-failed:${renderId ?? (version > 1 ? `start:v${version}` : "start")}`,
};

/**
 * Error texts from Remotion often quote the media URLs it failed to load: presigned URLs whose
 * query strings hold credentials. Failure reasons reach users and logs, so drop query strings.
 */
export const redactUrls = (text: string): string => text.replace(/(https?:\/\/[^\s"'?#]+)[?#][^\s"']*/g, "$1?…");

export const reasonMessage = (text: string): string => {
  const s = redactUrls(text).trim();
  return (s || "unknown error").slice(0, 2000);
};
