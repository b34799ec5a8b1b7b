import { s3ObjectCreatedEventSchema } from "@reelbridge/events";
import { CheckLaterError } from "@reelbridge/core";
import type { S3ObjectCreatedEvent } from "@reelbridge/events";
import { readMp4Info } from "@reelbridge/core/adapters/ltx/mp4-info";
import { DEFAULT_MAX_INPUT_PIXELS } from "@reelbridge/core/media/image";
import { GENERATION_CLAIM_LEASE_SECONDS, failUpload, ingestUpload } from "@reelbridge/core/usecases/ingest-upload";
import type { IngestUploadDeps } from "@reelbridge/core/usecases/ingest-upload";
import { once } from "./lib/env";
import { asLogger, makeLogger, queueStep, uploadJobId } from "./lib/handlers";
import type { QueueHandlerOptions } from "./lib/handlers";
import { queuedSubscriptionNamed } from "./lib/topology";
import { awsPlatform } from "./lib/aws-platform";
import { awsVideoGenerator } from "./lib/aws-services/video-generator";
import type { Platform } from "./lib/platform";
import { awsVisibilityChanger } from "./lib/aws";
import { quoteConfigFor } from "./lib/quote";

/** What the LTX step runs with; the local runtime passes its own (file blob store, dynalite, local bus, offline or fake-LTX generator). */
export type Deps = IngestUploadDeps;

export const NAME = "ltx-step";

const subscription = queuedSubscriptionNamed(NAME);
/** Receives before the message goes to the DLQ: the last one ends the job with RetriesExhausted. */
export const MAX_RECEIVE_COUNT = subscription.delivery.maxReceiveCount;

/**
 * The lease of a claim to submit a job's generation: it must outlast any invocation (the
 * Lambda timeout), or a live holder could be taken over and the generation paid twice.
 */
export const CLAIM_LEASE_SECONDS = Math.max(GENERATION_CLAIM_LEASE_SECONDS, subscription.timeoutSeconds + 300);

/** Dependencies from a platform (AWS, or the local runtime's peers). */
export async function buildDeps(p: Platform): Promise<Deps> {
  const cfg = p.config;
  return {
    blobs: p.blobs(),
    state: p.stepState(),
    publisher: p.publisher(NAME),
    generator: await p.videoGenerator({ logger: asLogger(makeLogger(`${NAME}-generator`)) }),
    clock: p.clock,
    probeVideo: readMp4Info,
    maxInputPixels: DEFAULT_MAX_INPUT_PIXELS,
    fps: cfg.ltx.fps,
    ...(cfg.ltx.provider === "ltx" ? { model: cfg.ltx.model } : {}),
    // LTX fetches the image when the job starts, which may be after a queue: 15 min.
    presignExpiresSeconds: 900,
    claimLeaseSeconds: CLAIM_LEASE_SECONDS,
    // The step's own cost lines (stepCost): the stage's generator, and this function's GB-s at
    // its architecture's price (functions shipping native code are x86_64, docs/decisions/0007).
    pricing: { provider: cfg.ltx.provider, model: cfg.ltx.model, lambdaArch: subscription.native?.length ? "x86_64" : "arm64", fn: NAME },
    budget: { store: p.budget(), ...(cfg.budget ? { limits: cfg.budget } : {}), quote: quoteConfigFor(p) },
  };
}

/** Production dependencies, once per cold start (LTX_BASE_URL: lib/aws-services/video-generator.ts). */
export const defaultDeps = () => buildDeps(awsPlatform({ videoGenerator: awsVideoGenerator }));

/**
 * The LTX step: "Object Created" for uploads/ arrives through the ltx-step queue (bounded
 * concurrency: LTX limits concurrent generations). No invocation waits for the generation
 * (docs/decisions/0010): one submits it and publishes VideoBaseStarted; while it runs, each
 * delivery looks once and hands the message back to the queue, made visible again after the
 * generator's check interval (CheckLaterError); the look that finds it done stores the clip and
 * publishes VideoBaseReady. Permanent failures are published by the use-case; `fail` covers
 * events that do not parse and transient failures on the queue's last receive.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps), opts: QueueHandlerOptions = {}) {
  return queueStep<S3ObjectCreatedEvent>(
    {
      name: NAME,
      parse: (raw) => s3ObjectCreatedEventSchema.parse(raw),
      jobIdOf: uploadJobId,
      // Each look is an invocation of its own: their GB-s are summed per job for VideoBaseReady's Lambda line.
      usageStore: async () => (await deps()).state,
      run: async (event, ctx) => {
        const out = await ingestUpload(await deps(), event, { logger: ctx.logger, attempt: ctx.attempt, lastAttempt: ctx.lastAttempt, lambdaUsage: ctx.lambdaUsage });
        if (out.status === "checking") {
          throw new CheckLaterError(`generation ${out.generationId} ${out.why}; looking again in ${out.checkAfterSeconds} s`, { retryAfterSeconds: out.checkAfterSeconds });
        }
      },
      fail: async (raw, reason, ctx) => {
        await failUpload(await deps(), raw as Parameters<typeof failUpload>[1], reason, ctx);
      },
    },
    { ...opts, maxReceiveCount: MAX_RECEIVE_COUNT },
  );
}

export const handler = createHandler(undefined, { changeVisibility: awsVisibilityChanger });
