import { z } from "zod";
import { LTX_MODELS } from "@reelbridge/core/adapters/ltx/contract";
import { DEFAULT_MAX_UPLOAD_BYTES } from "@reelbridge/core/upload/keys";
import type { StageFeature } from "./topology-types";

/**
 * Per-stage configuration, in one typed place. Secrets are NOT here: they are SST secrets
 * (LTX_API_KEY, REMOTION_WEBHOOK_SECRET, NOTIFY_WEBHOOK_SECRET, SUPABASE_DB_URL), bound to the functions that
 * need them and read at run time, never plain environment variables.
 */
export const stageConfigSchema = z.object({
  /** Origins allowed to POST uploads to the bucket and to call the APIs (CORS). */
  webOrigins: z.array(z.url()).min(1),
  /** Accounts whose rules may subscribe to the pipeline bus (resource policy). */
  consumerAccounts: z.array(z.string().regex(/^\d{12}$/)),
  /** Rules other teams declare here: the target is their bus or queue. */
  consumerSubscriptions: z.array(
    z.object({
      name: z.string().regex(/^[a-z0-9-]{1,40}$/),
      pattern: z.record(z.string(), z.unknown()),
      target: z.union([z.object({ eventBusArn: z.string().startsWith("arn:aws:events:") }), z.object({ queueArn: z.string().startsWith("arn:aws:sqs:") })]),
    }),
  ),
  /** Maximum concurrent consumers of each queued step. */
  concurrency: z.object({
    ltx: z.number().int().min(2).max(1000),
    render: z.number().int().min(2).max(1000),
    segmenter: z.number().int().min(2).max(1000),
    notifier: z.number().int().min(2).max(1000),
    /** The generated_videos sink: each consumer holds one database connection (Supabase plans allow 60+ direct, more through the pooler). */
    supabase: z.number().int().min(2).max(1000),
  }),
  upload: z.object({
    maxBytes: z.number().int().min(1).max(5 * 1024 ** 3),
    expiresInSeconds: z.number().int().min(60).max(600),
  }),
  /**
   * JWT auth for the upload and status APIs; absent = open stage (said at deploy time).
   * webClientId: the web client's public OIDC client at the issuer (authorization code + PKCE,
   * redirect URI = the site's origin + "/"); without it the page offers no sign-in.
   */
  auth: z.object({ issuer: z.url(), audience: z.string().min(1), jwksUrl: z.url(), webClientId: z.string().min(1).max(256).optional() }).optional(),
  ltx: z.object({
    /** "ltx" calls Lightricks' API; "offline" uses the FFmpeg generator. */
    provider: z.enum(["ltx", "offline"]),
    baseUrl: z.url(),
    /** One of the models LTX-2's API takes (the LTX contract's list). */
    model: z.enum(LTX_MODELS),
    fps: z.number().int().positive(),
  }),
  remotion: z.object({
    region: z.string().min(1),
    functionName: z.string().min(1),
    serveUrl: z.string().min(1),
    /** Seconds after which the watchdog asks getRenderProgress about a silent render. */
    watchdogAfterSeconds: z.number().int().min(60),
  }),
  notifier: z.object({
    /** Stage-wide webhook endpoints that receive every job's notifications. */
    endpoints: z.array(z.url()),
    /** AWS stages: https only. */
    requireHttps: z.boolean(),
  }),
  /**
   * The Supabase project whose `generated_videos` table the supabase-sink keeps in step with the
   * jobs (issue #16; packages/core/sql/generated-videos/README.md). Absent, or enabled: false = no
   * sink on this stage (no subscription, queue or DLQ). Its connection string is the SST secret
   * SUPABASE_DB_URL, never here.
   */
  supabase: z
    .object({
      /** The project ref: the 20 characters of <ref>.supabase.co. */
      projectRef: z.string().regex(/^[a-z0-9]{20}$/, "must be a Supabase project ref (20 lowercase letters and digits)"),
      enabled: z.boolean().optional(),
    })
    .optional(),
  /**
   * Budget caps (issue #13): the most one job may be quoted at, and the most one owner may
   * reserve per UTC day, USD. A job over either is refused at POST /uploads (402 BudgetExceeded)
   * before anything is paid. Absent = no cap.
   */
  budget: z
    .object({
      perJobUsd: z.number().positive().max(10_000).optional(),
      perOwnerPerDayUsd: z.number().positive().max(1_000_000).optional(),
    })
    .optional(),
  /** Days before abandoned uploads/ objects expire. */
  uploadsExpireAfterDays: z.number().int().min(1),
  /** Days the bus archive keeps events (0 = indefinitely). */
  archiveRetentionDays: z.number().int().min(0),
});
export type StageConfig = z.infer<typeof stageConfigSchema>;

const base: StageConfig = {
  webOrigins: ["http://localhost:5173"],
  consumerAccounts: [],
  consumerSubscriptions: [],
  concurrency: { ltx: 2, render: 2, segmenter: 2, notifier: 5, supabase: 2 },
  upload: { maxBytes: DEFAULT_MAX_UPLOAD_BYTES, expiresInSeconds: 600 },
  ltx: { provider: "ltx", baseUrl: "https://api.ltx.video", model: "ltx-2-fast", fps: 24 },
  remotion: {
    region: "us-east-1",
    functionName: "remotion-render-4-0-527-mem2048mb-disk2048mb-240sec",
    serveUrl: "https://remotionlambda-useast1-example.s3.us-east-1.amazonaws.com/sites/reelbridge/index.html",
    watchdogAfterSeconds: 600,
  },
  notifier: { endpoints: [], requireHttps: true },
  uploadsExpireAfterDays: 2,
  archiveRetentionDays: 30,
};

/**
 * Stages. `local` is the embedded runtime. Unknown stages (personal dev stages) get `dev`'s
 * settings. Override per deployment by editing here: it is reviewed like code.
 */
const stages: Record<string, StageConfig> = {
  local: {
    ...base,
    webOrigins: ["http://localhost:5173", "http://127.0.0.1:5173"],
    ltx: { ...base.ltx, provider: "offline" },
    notifier: { endpoints: [], requireHttps: false },
  },
  dev: base,
  // Shared pre-production stage: the analytics team's account subscribes to completed renders.
  staging: {
    ...base,
    webOrigins: ["https://staging.reelbridge.example.com"],
    consumerAccounts: ["444455556666"],
    consumerSubscriptions: [
      {
        name: "analytics-completed",
        pattern: { source: ["reelbridge.render"], "detail-type": ["RenderCompleted"] },
        target: { eventBusArn: "arn:aws:events:us-east-1:444455556666:event-bus/analytics" },
      },
      {
        name: "moderation-failures",
        pattern: { source: ["reelbridge.ingest"], "detail-type": ["VideoBaseFailed"], detail: { data: { reason: { code: ["InvalidImage", "UnsupportedFormat"] } } } },
        target: { queueArn: "arn:aws:sqs:us-east-1:444455556666:moderation-inbox" },
      },
    ],
    auth: { issuer: "https://auth.staging.reelbridge.example.com/", audience: "reelbridge-api", jwksUrl: "https://auth.staging.reelbridge.example.com/.well-known/jwks.json", webClientId: "reelbridge-web" },
    // The seed system's apps read this project's generated_videos table (issue #16).
    supabase: { projectRef: "abcdefghijklmnopqrst" },
  },
  prod: {
    ...base,
    webOrigins: ["https://reelbridge.example.com"],
    concurrency: { ltx: 5, render: 10, segmenter: 10, notifier: 20, supabase: 5 },
    archiveRetentionDays: 0,
    // A 20 s 1080p clip on ltx-2-fast is $0.80; ltx-2-5-pro $3.40.
    budget: { perJobUsd: 2, perOwnerPerDayUsd: 20 },
  },
};

export function stageConfig(stage: string, overrides: Partial<StageConfig> = {}): StageConfig {
  return stageConfigSchema.parse({ ...(stages[stage] ?? stages.dev), ...overrides });
}

/** What the stage turns on (topology `requires`): the supabase-sink where a Supabase project is named and not disabled. */
export function stageFeatures(config: StageConfig): Record<StageFeature, boolean> {
  return { supabase: config.supabase !== undefined && config.supabase.enabled !== false };
}
