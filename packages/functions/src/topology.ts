import { detailTypes, on, onAny, pipelineEvents, s3ObjectCreated, sources } from "@reelbridge/events";
import { notifiedTypes } from "@reelbridge/core/notify/webhook";
import { JOBS_PREFIX, UPLOADS_PREFIX } from "@reelbridge/core/upload/keys";
import type { Endpoint, RetryPolicy, Schedule, StageFeature, Subscription } from "./topology-types";

export type * from "./topology-types";

/**
 * THE topology (ARCHITECTURE.md, principle 1): every subscription of the choreography, every
 * HTTP endpoint and schedule, with its handler, delivery and permissions. `stacks/` builds
 * rules, targets, queues, DLQs and IAM from this; the local runtime subscribes the same
 * handlers with the same patterns and delivery. Nothing else declares a rule.
 */

/** Key prefixes: uploads are written by browsers; everything under jobs/ by the pipeline. */
export const prefixes = {
  uploads: UPLOADS_PREFIX,
  jobs: JOBS_PREFIX,
  /** Deployed with the stack: the music catalog's tracks (assets/music/…), the brand logo. */
  assets: "assets/",
} as const;

/**
 * EventBridge's own default: retry for 24 h, up to 185 times. Every rule target uses it (for
 * queue targets the rule only has to land the event in SQS), as do the stage config's
 * consumer subscriptions (stacks/Bus.ts).
 */
/** The environment variable that carries an endpoint's URL to a function that `reaches` it: "status-api" → STATUS_API_URL. */
export const endpointUrlEnv = (endpoint: string) => `${endpoint.replace(/-/g, "_").toUpperCase()}_URL`;

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 };

export interface TopologyContext {
  /** The media bucket's name (a CDK token in stacks/, the local store's name offline). */
  mediaBucket: string;
  /**
   * What the stage turns on (stage-config.ts stageFeatures; the local runtime decides its own).
   * A subscription that `requires` a feature is left out unless it is on here.
   */
  features?: Partial<Record<StageFeature, boolean>>;
}

/** Every feature on: for what must know every subscription that may exist (the handler registry, docs). */
export const ALL_FEATURES: Record<StageFeature, boolean> = { supabase: true };

export function subscriptions(ctx: TopologyContext): Subscription[] {
  return declaredSubscriptions(ctx).filter((s) => !s.requires || ctx.features?.[s.requires] === true);
}

function declaredSubscriptions(ctx: TopologyContext): Subscription[] {
  return [
    {
      name: "ltx-step",
      description: "Validates and normalises an uploaded photo and submits its generation (VideoBaseStarted); looks at the generation in short deliveries the queue brings back until it is done; emits VideoBaseReady or VideoBaseFailed.",
      bus: "default",
      pattern: s3ObjectCreated({ bucket: ctx.mediaBucket, keyPrefix: prefixes.uploads }),
      handler: "packages/functions/src/ltx.handler",
      // LTX limits concurrent generations: a burst waits in the queue instead of failing on 429s.
      // No invocation waits for a generation (docs/decisions/0010): each look is one delivery, and
      // the handler makes the message visible again after the next look's delay. So every look is
      // a receive: the step owns its retry budget (core STEP_RETRY_BUDGET) and its deadline, and
      // maxReceiveCount is only the backstop, above the looks a generation gets before its
      // deadline (a unit test checks it) yet low enough that a message failing on every receive
      // reaches the DLQ within the queue's 4-day retention (200 × the 900 s longest backoff ≈ 50 h).
      // The timeout covers the longest single delivery (the clip's download, 120 s, and storing it).
      delivery: { kind: "queue", retry: DEFAULT_RETRY_POLICY, concurrencyKey: "ltx", batchSize: 1, visibilityTimeoutSeconds: 1_080, maxReceiveCount: 200 },
      timeoutSeconds: 180,
      memoryMB: 2_048,
      permissions: [
        { kind: "s3:read", prefix: prefixes.uploads },
        { kind: "s3:read", prefix: prefixes.jobs },
        { kind: "s3:write", prefix: prefixes.jobs },
        { kind: "events:put", detailTypes: ["VideoBaseStarted", "VideoBaseReady", "VideoBaseFailed", "VideoBaseStopped"] },
        { kind: "jobs:write" },
        { kind: "secret", name: "LTX_API_KEY" },
      ],
      // sharp validates and normalises the photo.
      native: ["sharp"],
    },
    {
      name: "render-step",
      description: "Starts the branded render on Remotion Lambda (or the local renderer) with a signed webhook; emits RenderStarted.",
      bus: "pipeline",
      // VideoBaseReady: the job's first render; RenderRequested: a re-render (docs/decisions/0009).
      pattern: onAny(["VideoBaseReady", "RenderRequested"]),
      handler: "packages/functions/src/render.handler",
      // Remotion renders fan out into many Lambdas: bound how many start at once.
      delivery: { kind: "queue", retry: DEFAULT_RETRY_POLICY, concurrencyKey: "render", batchSize: 1, visibilityTimeoutSeconds: 360, maxReceiveCount: 5 },
      timeoutSeconds: 60,
      memoryMB: 512,
      // Remotion posts the render's outcome to the render webhook.
      reaches: ["render-webhook"],
      permissions: [
        { kind: "s3:read", prefix: prefixes.jobs },
        // Music and logo: presigned for Remotion.
        { kind: "s3:read", prefix: prefixes.assets },
        { kind: "events:put", detailTypes: ["RenderStarted", "RenderFailed"] },
        { kind: "jobs:write" },
        { kind: "secret", name: "REMOTION_WEBHOOK_SECRET" },
        { kind: "remotion:render" },
        // A render started just as its job was cancelled is cancelled by the step itself.
        { kind: "remotion:cancel" },
      ],
    },
    {
      name: "render-canceller",
      description: "On JobCancelled, stops the job's running render (Remotion Lambda's cancelRenderOnLambda, or the local renderer's cancel signal).",
      bus: "pipeline",
      pattern: on("JobCancelled"),
      handler: "packages/functions/src/render-canceller.handler",
      delivery: { kind: "queue", retry: DEFAULT_RETRY_POLICY, concurrencyKey: "render", batchSize: 1, visibilityTimeoutSeconds: 180, maxReceiveCount: 5 },
      timeoutSeconds: 30,
      memoryMB: 256,
      permissions: [{ kind: "jobs:write" }, { kind: "remotion:cancel" }, { kind: "secret", name: "REMOTION_WEBHOOK_SECRET" }],
    },
    {
      name: "db-writer",
      description: "Keeps the job record (status, timeline, parameters, outputs, generated_videos fields) from every pipeline event.",
      bus: "pipeline",
      pattern: onAny(detailTypes),
      handler: "packages/functions/src/db-writer.handler",
      delivery: { kind: "direct", retry: DEFAULT_RETRY_POLICY, asyncRetryAttempts: 2 },
      timeoutSeconds: 30,
      memoryMB: 256,
      permissions: [{ kind: "jobs:write" }],
    },
    {
      name: "segmenter",
      description: "Packages the final video with FFmpeg: HLS VOD rendition, clips and poster; emits SegmentsReady or SegmentsFailed.",
      bus: "pipeline",
      pattern: on("RenderCompleted"),
      handler: "packages/functions/src/segmenter.handler",
      // Queued, unlike ARCHITECTURE.md's sketch (docs/decisions/0005): FFmpeg is CPU-bound, so
      // a burst must not start one FFmpeg per render at once, and the receive count tells the
      // handler its last attempt, so a transient failure that never clears still ends the job
      // with SegmentsFailed instead of only a DLQ message.
      delivery: { kind: "queue", retry: DEFAULT_RETRY_POLICY, concurrencyKey: "segmenter", batchSize: 1, visibilityTimeoutSeconds: 1_800, maxReceiveCount: 3 },
      timeoutSeconds: 300,
      memoryMB: 2_048,
      permissions: [
        { kind: "s3:read", prefix: prefixes.jobs },
        { kind: "s3:write", prefix: prefixes.jobs },
        { kind: "events:put", detailTypes: ["SegmentsReady", "SegmentsFailed"] },
        // The job ledger (core/jobs/ledger.ts): only the job's own RenderCompleted is segmented.
        { kind: "jobs:read" },
      ],
      // The npm-shipped static FFmpeg its tests and the local runtime run (docs/decisions/0007);
      // /tmp holds the final video and its HLS rendition and clips.
      native: ["ffmpeg"],
      diskMB: 2_048,
    },
    {
      name: "notifier",
      description: "Sends Standard Webhooks to the job's callback and the stage's endpoints; emits NotificationDelivered or NotificationFailed.",
      bus: "pipeline",
      pattern: onAny(notifiedTypes),
      handler: "packages/functions/src/notifier.handler",
      // Retries with backoff live in the queue (visibility timeout), so a slow receiver never
      // holds a Lambda for hours, and the last failure lands in the DLQ.
      // 60 s fits three quick attempts of 15 s each; visibility is 6× the timeout (AWS's advice
      // for SQS consumers) and doubles as the backoff between redeliveries.
      delivery: { kind: "queue", retry: DEFAULT_RETRY_POLICY, concurrencyKey: "notifier", batchSize: 1, visibilityTimeoutSeconds: 360, maxReceiveCount: 8 },
      timeoutSeconds: 60,
      memoryMB: 256,
      // The payload's lasting links.status points at the status API.
      reaches: ["status-api"],
      permissions: [
        { kind: "s3:read", prefix: prefixes.jobs },
        { kind: "events:put", detailTypes: ["NotificationDelivered", "NotificationFailed"] },
        { kind: "jobs:write" },
        { kind: "secret", name: "NOTIFY_WEBHOOK_SECRET" },
      ],
    },
    {
      name: "supabase-sink",
      description: "Keeps the job's row of the Supabase table generated_videos (the seed system's apps read it) in step with the job record: upserted on job_id, order-independently, from every pipeline event but the notifier's.",
      bus: "pipeline",
      // Every event that can change the row; the notifier's reports never do.
      pattern: onAny(detailTypes.filter((t) => pipelineEvents[t].source !== sources.notifier)),
      handler: "packages/functions/src/supabase-sink.handler",
      // A database that is down is waited out in the queue: redeliveries back off 10 s doubling
      // to 15 min, so 12 receives span about 80 minutes of outage before the DLQ; a write the
      // database refuses (no table, bad password) is redelivered at once and reaches the DLQ and
      // its alarm within seconds (core/sinks/errors.ts). The sink never fails the job.
      delivery: { kind: "queue", retry: DEFAULT_RETRY_POLICY, concurrencyKey: "supabase", batchSize: 1, visibilityTimeoutSeconds: 180, maxReceiveCount: 12 },
      timeoutSeconds: 30,
      memoryMB: 256,
      // jobs:read: the job ledger, which events are checked against (as the DB writer does).
      permissions: [{ kind: "jobs:read" }, { kind: "secret", name: "SUPABASE_DB_URL" }],
      // Only on stages whose config names a Supabase project (stage-config.ts `supabase`).
      requires: "supabase",
    },
  ];
}

export const endpoints: Endpoint[] = [
  {
    name: "upload-api",
    description: "POST /uploads: validates the job parameters, returns the jobId and a presigned POST for uploads/{jobId}/source; POST /quotes: what such a job would cost, nothing reserved.",
    handler: "packages/functions/src/upload-api.handler",
    routes: ["POST /uploads", "POST /quotes"],
    auth: "jwt-if-configured",
    timeoutSeconds: 10,
    memoryMB: 256,
    // Reserves each job's quote against its owner's daily cap (stage config budget).
    permissions: [{ kind: "s3:write", prefix: prefixes.uploads }, { kind: "budget:reserve" }, { kind: "jobs:sign" }],
  },
  {
    name: "status-api",
    description: "GET /jobs/{jobId} and GET /jobs: job status, timeline and outputs as presigned URLs.",
    handler: "packages/functions/src/status-api.handler",
    routes: ["GET /jobs/{jobId}", "GET /jobs", "GET /jobs/{jobId}/hls/index.m3u8"],
    auth: "jwt-if-configured",
    timeoutSeconds: 10,
    memoryMB: 256,
    // A rendering job's progress is Remotion's getRenderProgress: an invocation of the stage's Remotion function.
    permissions: [{ kind: "jobs:read" }, { kind: "s3:read", prefix: prefixes.jobs }, { kind: "remotion:render" }],
  },
  {
    name: "jobs-api",
    description: "POST /jobs/{jobId}/renders (a re-render from the stored base clip, Idempotency-Key) and POST /jobs/{jobId}/cancel; owner-checked like the status API.",
    handler: "packages/functions/src/jobs-api.handler",
    routes: ["POST /jobs/{jobId}/renders", "POST /jobs/{jobId}/cancel"],
    auth: "jwt-if-configured",
    timeoutSeconds: 10,
    memoryMB: 256,
    // The ledger (step state) is read and claimed; the base clip's head is checked.
    permissions: [{ kind: "jobs:write" }, { kind: "s3:read", prefix: prefixes.jobs }, { kind: "events:put", detailTypes: ["RenderRequested", "JobCancelled"] }],
  },
  {
    name: "render-webhook",
    description: "Receives Remotion's signed webhook; emits RenderCompleted or RenderFailed once per (renderId, status).",
    handler: "packages/functions/src/render-webhook.handler",
    routes: ["POST /remotion-webhook"],
    auth: "signature",
    timeoutSeconds: 15,
    memoryMB: 256,
    // Reads the final video's head (size) before announcing it.
    permissions: [{ kind: "s3:read", prefix: prefixes.jobs }, { kind: "events:put", detailTypes: ["RenderCompleted", "RenderFailed"] }, { kind: "jobs:write" }, { kind: "secret", name: "REMOTION_WEBHOOK_SECRET" }],
  },
];

export const schedules: Schedule[] = [
  {
    name: "render-watchdog",
    description: "Asks getRenderProgress about renders whose webhook never arrived and emits their outcome.",
    handler: "packages/functions/src/render-watchdog.handler",
    everyMinutes: 5,
    timeoutSeconds: 60,
    memoryMB: 256,
    permissions: [{ kind: "s3:read", prefix: prefixes.jobs }, { kind: "jobs:write" }, { kind: "events:put", detailTypes: ["RenderCompleted", "RenderFailed"] }, { kind: "remotion:render" }],
  },
];

/** The path of an endpoint's first route without parameters ("render-webhook" → "/remotion-webhook"): what it is given out as. */
export function endpointRoutePath(name: string): string {
  const route = endpoints.find((e) => e.name === name)?.routes.map((r) => r.split(" ")[1]!).find((path) => !path.includes("{"));
  if (!route) throw new Error(`endpoint ${name} has no route without parameters`);
  return route;
}
