import { z } from "zod";
import { jobIdSchema, jobParamsSchema } from "./job";
import { jobCostSchema } from "./cost";

export { formatUsd } from "./cost";
export type { CostLine, JobCost } from "./cost";

/**
 * The HTTP contracts of the upload API (POST /uploads) and the status API (GET /jobs,
 * GET /jobs/{jobId}): what the handlers answer, what the web client parses, and (as JSON Schema,
 * schemas/http/) what other clients can validate against. Imports only zod and ./job, so the
 * browser bundle gets the contract without the event catalog.
 *
 * Compatibility: answers may gain fields (clients strip what they do not know); timeline entry
 * types and failure codes are open strings, since new events and reason codes are additive.
 */

// ---- upload limits ---------------------------------------------------------------------------

/** Image types the pipeline accepts (the browser sends the sniffed type; the policy pins it). */
export const uploadContentTypes = ["image/jpeg", "image/png", "image/webp"] as const;
export type UploadContentType = (typeof uploadContentTypes)[number];
export const uploadContentTypeSchema = z.enum(uploadContentTypes, `must be one of ${uploadContentTypes.join(", ")}`);

/**
 * The stage's default photo limit (15 MB, LTX-2's URL-input limit). A stage may set another;
 * the upload response's `upload.maxBytes` is the one that applies.
 */
export const DEFAULT_MAX_UPLOAD_BYTES = 15 * 1024 * 1024;

const isoTime = z.iso.datetime({ offset: true });

// ---- errors ----------------------------------------------------------------------------------

/** One field the caller got wrong, named by its path in the request body ("title", "clips.cutPoints.0"; "(body)" for the whole body). */
export const fieldIssueSchema = z.object({ field: z.string().min(1), message: z.string() });
export type FieldIssue = z.infer<typeof fieldIssueSchema>;

/** Every 4xx/5xx JSON body of both APIs: a stable code, a sentence, and per-field details on a 400 of POST /uploads. */
export const errorBodySchema = z.object({
  error: z.string().min(1),
  message: z.string(),
  details: z.array(fieldIssueSchema).optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

// ---- POST /uploads ---------------------------------------------------------------------------

/**
 * What the browser sends to POST /uploads: the job parameters minus what the server decides
 * (jobId, owner, createdAt), plus the file's type so the policy can pin Content-Type exactly.
 * `music` is only checked for its id shape here; the upload API checks it against the catalog
 * (`uploadRequestSchema(musicIds)`).
 */
export const uploadRequestBodySchema = jobParamsSchema.omit({ jobId: true, owner: true, createdAt: true, uploadInvocation: true }).extend({
  contentType: uploadContentTypeSchema,
  /**
   * The most the caller will pay for this job, USD: a quote over it is refused (402
   * BudgetExceeded, limit "maxCost") before anything is reserved or paid (`reelbridge run --max-cost`).
   */
  maxCostUsd: z.number().positive().max(1_000_000).optional(),
});
/** What a client sends (before trimming). */
export type UploadRequestBody = z.input<typeof uploadRequestBodySchema>;

/** The upload request as the upload API validates it: music must be one of the catalog's ids (remotion/src/music.ts). */
export function uploadRequestSchema(musicIds: readonly string[]) {
  const known = new Set(musicIds);
  return uploadRequestBodySchema.extend({
    music: z.string().refine((id) => known.has(id), `must be one of the music catalog's ids: ${[...known].join(", ")}`),
  });
}
export type UploadRequest = z.infer<ReturnType<typeof uploadRequestSchema>>;

/** 201 of POST /uploads: the job's id, where its status will be, and the presigned POST. */
export const uploadResponseSchema = z.object({
  jobId: jobIdSchema,
  /** Relative to the status API: `/jobs/{jobId}` (404 until the pipeline records the job's first step). */
  statusUrl: z.string().startsWith("/jobs/"),
  upload: z.object({
    /** POST a multipart form here: `fields` in order, then the file as the last field "file". */
    url: z.url(),
    fields: z.record(z.string(), z.string()),
    /** The largest file the policy accepts, bytes. */
    maxBytes: z.number().int().positive(),
    /** When the policy stops working. */
    expiresAt: isoTime,
  }),
  /**
   * What the job will cost, line by line, every line `estimated` (the generation, the render, our
   * Lambdas and the services around them); already reserved against the owner's daily budget.
   */
  quote: jobCostSchema,
});
export type UploadResponse = z.infer<typeof uploadResponseSchema>;

/**
 * 402 of POST /uploads and of POST /jobs/{jobId}/renders (a re-render's quote): the quote is over
 * a cap, so nothing was reserved or paid.
 * `limit.kind`: "perJob" and "perOwnerPerDay" are the stage's caps, "maxCost" the request's own.
 */
export const budgetExceededBodySchema = errorBodySchema.extend({
  error: z.literal("BudgetExceeded"),
  quote: jobCostSchema,
  limit: z.object({
    kind: z.enum(["perJob", "perOwnerPerDay", "maxCost"]),
    usd: z.number().nonnegative(),
    /** The UTC day the per-day cap counts. */
    day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    /** Already reserved that day, for the per-day cap. */
    spentUsd: z.number().nonnegative().optional(),
  }),
});
export type BudgetExceededBody = z.infer<typeof budgetExceededBodySchema>;

// ---- POST /quotes ----------------------------------------------------------------------------

/**
 * What a job would cost, asked before it is created (the web client's price next to "Create
 * video"): the upload request's own aspect, durationSeconds and maxCostUsd (other fields of an
 * upload body are ignored), priced by the same quote the upload API reserves. Nothing is
 * reserved or paid.
 */
export const quoteRequestBodySchema = uploadRequestBodySchema.pick({ aspect: true, durationSeconds: true, maxCostUsd: true }).extend({
  /**
   * "reused": the price of a re-render of a job with these parameters (POST /jobs/{jobId}/renders:
   * the stored base clip, no generation line; held against the same caps as an upload).
   * Default "included": a new job.
   */
  generation: z.enum(["included", "reused"]).optional(),
});
export type QuoteRequestBody = z.input<typeof quoteRequestBodySchema>;

/** 200 of POST /quotes: the quote, and whether POST /uploads would accept it now. */
export const quoteResponseSchema = z.object({
  /** Every line `estimated`; the same lines POST /uploads answers for these parameters. */
  quote: jobCostSchema,
  /** "included": a new job pays for its generation; "reused": a re-render does not. */
  generation: z.enum(["included", "reused"]),
  budget: z.object({
    /** False when POST /uploads would answer 402 BudgetExceeded (as of now: the day's spend may change). */
    fits: z.boolean(),
    /** The UTC day the per-day cap counts. */
    day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    perJobUsd: z.number().nonnegative().optional(),
    perOwnerPerDayUsd: z.number().nonnegative().optional(),
    /** Already reserved by the caller that day (when the stage caps the day). */
    spentTodayUsd: z.number().nonnegative().optional(),
    /** Which cap refuses it, as the 402's `limit`, with its sentence. */
    refusal: budgetExceededBodySchema.shape.limit.extend({ message: z.string() }).optional(),
  }),
});
export type QuoteResponse = z.infer<typeof quoteResponseSchema>;

// ---- GET /jobs/{jobId} -----------------------------------------------------------------------

export const jobStatuses = ["uploaded", "generating", "generated", "rendering", "rendered", "completed", "failed", "cancelled"] as const;
export const jobStatusSchema = z.enum(jobStatuses);
export type JobStatus = z.infer<typeof jobStatusSchema>;
/** Statuses after which a job does not change. */
export const terminalJobStatuses = ["completed", "failed", "cancelled"] as const satisfies readonly JobStatus[];

export const presignedUrlSchema = z.object({ url: z.url(), expiresAt: isoTime });
export type PresignedUrl = z.infer<typeof presignedUrlSchema>;

/** One pipeline event the job went through. */
export const timelineEntrySchema = z.object({
  eventId: z.string().min(1),
  /** The event's detail-type, e.g. "VideoBaseReady". */
  type: z.string().min(1),
  time: isoTime,
  /** Short human summary, e.g. "base clip 6.0 s 1080×1920". */
  summary: z.string(),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

/** What the user asked for, without owner, jobId and createdAt; the callback URL without its query (it may hold a token). */
export const jobViewParamsSchema = jobParamsSchema.omit({ owner: true, callbackUrl: true, jobId: true, createdAt: true }).extend({
  callbackUrl: z.url().optional(),
});

/** The `generated_videos` row, with video_url and thumbnail_url as presigned URLs. */
export const generatedVideoSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  title: z.string(),
  subtitle: z.string(),
  video_url: z.string(),
  thumbnail_url: z.string().nullable(),
  filename: z.string(),
  file_size_mb: z.number().nonnegative(),
  duration_seconds: z.number().nonnegative(),
  resolution: z.string(),
  camera_prompt: z.string(),
  music_file: z.string(),
  status: z.string(),
  generation_time_seconds: z.number().nonnegative(),
  created_at: z.string(),
  /** What the job has cost so far, USD (the job view's `cost.totalUsd`). */
  cost_usd: z.number().nonnegative().optional(),
});

/** The status of one render version (docs/decisions/0009). */
export const renderVersionStatuses = ["requested", "rendering", "rendered", "completed", "failed", "cancelled"] as const;
export const renderVersionStatusSchema = z.enum(renderVersionStatuses);
export type RenderVersionStatus = z.infer<typeof renderVersionStatusSchema>;

/** One render of the job: 1 is the first (from the upload), 2… the re-renders. */
export const renderVersionViewSchema = z.object({
  version: z.number().int().min(1),
  status: renderVersionStatusSchema,
  /** What this version shows. */
  title: z.string(),
  subtitle: z.string(),
  music: z.string(),
  aspect: jobParamsSchema.shape.aspect,
  requestedAt: isoTime,
  updatedAt: isoTime,
  failure: z.object({ type: z.string().min(1), code: z.string().min(1), message: z.string() }).optional(),
  /** This version's outputs, presigned like the job's (jobs/{jobId}/v{N}/… for N ≥ 2). */
  outputs: z.object({
    video: presignedUrlSchema.optional(),
    clips: z.array(presignedUrlSchema),
    poster: presignedUrlSchema.optional(),
  }),
});
export type RenderVersionView = z.infer<typeof renderVersionViewSchema>;

/**
 * How far a running step is: the generation (the LTX step's last look at it) or a render (the
 * renderer's progress, Remotion's getRenderProgress). `fraction` only when the provider reports
 * one; `secondsLeft` is estimated from it and the time since `startedAt` (absent without a fraction).
 */
export const stepProgressSchema = z.object({
  fraction: z.number().min(0).max(1).optional(),
  startedAt: isoTime.optional(),
  /** When `fraction` was measured. */
  measuredAt: isoTime.optional(),
  secondsLeft: z.number().nonnegative().optional(),
});
export type StepProgress = z.infer<typeof stepProgressSchema>;

export const jobViewSchema = z.object({
  jobId: jobIdSchema,
  status: jobStatusSchema,
  /** When the upload API issued the job. */
  createdAt: isoTime,
  updatedAt: isoTime,
  /** null only for a job whose upload carried no parameters. */
  params: jobViewParamsSchema.nullable(),
  /** Present when status is "failed": the failure event's type, its reason code and message. */
  failure: z.object({ type: z.string().min(1), code: z.string().min(1), message: z.string() }).optional(),
  timeline: z.array(timelineEntrySchema),
  outputs: z.object({
    /** The final MP4, presigned (15 minutes), served as a download named `filename`. */
    video: presignedUrlSchema.extend({ filename: z.string().min(1) }).optional(),
    /**
     * The status API's playlist route (GET /jobs/{jobId}/hls/index.m3u8), which serves the
     * playlist with every segment presigned. It does not expire itself; the segment URLs do.
     */
    hlsPlaylist: z.object({ url: z.url() }).optional(),
    clips: z.array(presignedUrlSchema),
    poster: presignedUrlSchema.optional(),
  }),
  video: generatedVideoSchema.optional(),
  /**
   * What the job has cost so far, line by line with each line's basis: failed jobs too. Absent on
   * answers from before the cost ledger.
   */
  cost: jobCostSchema.optional(),
  notifications: z.array(
    z.object({
      webhookId: z.string(),
      endpoint: z.string(),
      outcome: z.enum(["delivered", "failed"]),
      attempts: z.number().int().nonnegative(),
      time: isoTime,
    }),
  ),
  /**
   * Every render of the job, oldest first (absent on answers from before re-renders existed).
   * `outputs` and `video` above are the latest completed version's.
   */
  versions: z.array(renderVersionViewSchema).optional(),
  /** The highest version requested (1 until the job is re-rendered). */
  latestVersion: z.number().int().min(1).optional(),
  /** The steps running now, with their progress (absent when none runs, and on older answers). */
  progress: z
    .object({
      generation: stepProgressSchema.optional(),
      /** The render of `version` (1: the job's first). */
      render: stepProgressSchema.extend({ version: z.number().int().min(1) }).optional(),
    })
    .optional(),
});
export type JobView = z.infer<typeof jobViewSchema>;

// ---- POST /jobs/{jobId}/renders --------------------------------------------------------------

/**
 * A re-render: what changes from the job's own parameters (any of title, subtitle, music,
 * aspect; at least one). The same limits as an upload's: the fields are the upload request's
 * own schemas. The request carries an `Idempotency-Key` header (1–255 visible ASCII characters):
 * the same key returns the same version.
 */
export const rerenderRequestBodySchema = uploadRequestBodySchema
  .pick({ title: true, subtitle: true, music: true, aspect: true })
  .partial()
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), "give at least one of title, subtitle, music, aspect");
export type RerenderRequestBody = z.input<typeof rerenderRequestBodySchema>;

/** The re-render request as the jobs API validates it: music must be one of the catalog's ids. */
export function rerenderRequestSchema(musicIds: readonly string[]) {
  const known = new Set(musicIds);
  return rerenderRequestBodySchema.refine((b) => b.music === undefined || known.has(b.music), {
    message: `must be one of the music catalog's ids: ${[...known].join(", ")}`,
    path: ["music"],
  });
}

export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** Stripe's and the IETF draft's shape: 1–255 visible ASCII characters. */
export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7E]{1,255}$/, "must be 1 to 255 visible ASCII characters");

/** 202 of POST /jobs/{jobId}/renders (200 with `replayed: true` for a repeated Idempotency-Key). */
export const rerenderResponseSchema = z.object({
  jobId: jobIdSchema,
  version: z.number().int().min(2),
  status: renderVersionStatusSchema,
  /** Relative to the status API: the job, whose `versions` lists this one. */
  statusUrl: z.string().startsWith("/jobs/"),
  /** True when this answer repeats the one given to an earlier request with the same key. */
  replayed: z.boolean(),
  /** No new generation is paid for: the base clip is reused. */
  generation: z.literal("reused"),
  /** What this version will cost: the render and the services around it, no generation line (every line `estimated`). */
  quote: jobCostSchema.optional(),
});
export type RerenderResponse = z.infer<typeof rerenderResponseSchema>;

// ---- POST /jobs/{jobId}/cancel ---------------------------------------------------------------

/** 200 of POST /jobs/{jobId}/cancel: the job is cancelled (also when it already was: idempotent). */
export const cancelResponseSchema = z.object({
  jobId: jobIdSchema,
  status: z.literal("cancelled"),
  /** Set when a re-render (version ≥ 2) was cancelled rather than the job's first render. */
  version: z.number().int().min(2).optional(),
  cancelledAt: isoTime,
  /** False when the job was already cancelled by an earlier request. */
  cancelledNow: z.boolean(),
});
export type CancelResponse = z.infer<typeof cancelResponseSchema>;

// ---- GET /jobs -------------------------------------------------------------------------------

export const jobSummarySchema = z.object({
  jobId: jobIdSchema,
  status: jobStatusSchema,
  title: z.string().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
  failure: z.object({ code: z.string().min(1), message: z.string() }).optional(),
  /** What the job has cost so far, USD. */
  costUsd: z.number().nonnegative().optional(),
});
export type JobSummary = z.infer<typeof jobSummarySchema>;

/** The caller's jobs, newest first; pass `cursor` back as ?cursor= for the next page (absent on the last). */
export const jobListSchema = z.object({
  items: z.array(jobSummarySchema),
  cursor: z.string().min(1).optional(),
});
export type JobList = z.infer<typeof jobListSchema>;

/** The schemas published as JSON Schema (schemas/http/<name>.json), by name. */
export const httpContracts = {
  UploadRequest: { schema: uploadRequestBodySchema, io: "input", summary: "Body of POST /uploads (music: an id of the music catalog)." },
  UploadResponse: { schema: uploadResponseSchema, io: "output", summary: "201 of POST /uploads: the job id, its status URL and the presigned POST." },
  JobView: { schema: jobViewSchema, io: "output", summary: "200 of GET /jobs/{jobId}: status, parameters, timeline and presigned outputs." },
  JobList: { schema: jobListSchema, io: "output", summary: "200 of GET /jobs: the caller's jobs, newest first." },
  RerenderRequest: { schema: rerenderRequestBodySchema, io: "input", summary: "Body of POST /jobs/{jobId}/renders (with an Idempotency-Key header)." },
  RerenderResponse: { schema: rerenderResponseSchema, io: "output", summary: "202 of POST /jobs/{jobId}/renders: the version numbered for the request." },
  CancelResponse: { schema: cancelResponseSchema, io: "output", summary: "200 of POST /jobs/{jobId}/cancel: the job is cancelled." },
  QuoteRequest: { schema: quoteRequestBodySchema, io: "input", summary: "Body of POST /quotes: the parameters a job's price depends on." },
  QuoteResponse: { schema: quoteResponseSchema, io: "output", summary: "200 of POST /quotes: what the job would cost and whether the budget admits it; nothing reserved." },
  ErrorBody: { schema: errorBodySchema, io: "output", summary: "Every JSON error answer of the upload and status APIs." },
  BudgetExceeded: { schema: budgetExceededBodySchema, io: "output", summary: "402 of POST /uploads and POST /jobs/{jobId}/renders: the quote is over a budget cap; nothing was reserved or paid." },
} as const;
