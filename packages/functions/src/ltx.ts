import { s3ObjectCreatedEventSchema } from "@reelbridge/events";
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

/** What the LTX step runs with; the local runtime passes its own (file blob store, dynalite, local bus, offline or fake-LTX generator). */
export type Deps = IngestUploadDeps;

export const NAME = "ltx-step";

const subscription = queuedSubscriptionNamed(NAME);
/** Receives before the message goes to the DLQ: the last one ends the job with RetriesExhausted. */
export const MAX_RECEIVE_COUNT = subscription.delivery.maxReceiveCount;

/** How long one invocation follows an LTX generation: the Lambda timeout minus time to store the clip. */
const maxWaitMs = Math.max(60, subscription.timeoutSeconds - 120) * 1000;

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
    generator: await p.videoGenerator({ maxWaitMs, logger: asLogger(makeLogger(`${NAME}-generator`)) }),
    clock: p.clock,
    probeVideo: readMp4Info,
    maxInputPixels: DEFAULT_MAX_INPUT_PIXELS,
    fps: cfg.ltx.fps,
    ...(cfg.ltx.provider === "ltx" ? { model: cfg.ltx.model } : {}),
    // LTX fetches the image when the job starts, which may be after a queue: 15 min.
    presignExpiresSeconds: 900,
    claimLeaseSeconds: CLAIM_LEASE_SECONDS,
  };
}

/** Production dependencies, once per cold start (LTX_BASE_URL: lib/aws-services/video-generator.ts). */
export const defaultDeps = () => buildDeps(awsPlatform({ videoGenerator: awsVideoGenerator }));

/**
 * The LTX step: "Object Created" for uploads/ arrives through the ltx-step queue (bounded
 * concurrency: LTX limits concurrent generations). It publishes VideoBaseStarted once the
 * generation is submitted, then VideoBaseReady; permanent failures are published by the
 * use-case; `fail` covers events that do not parse and transient failures on the last receive.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps), opts: QueueHandlerOptions = {}) {
  return queueStep<S3ObjectCreatedEvent>(
    {
      name: NAME,
      parse: (raw) => s3ObjectCreatedEventSchema.parse(raw),
      jobIdOf: uploadJobId,
      run: async (event, ctx) => {
        await ingestUpload(await deps(), event, { logger: ctx.logger, lastAttempt: ctx.lastAttempt });
      },
      fail: async (raw, reason, ctx) => {
        await failUpload(await deps(), raw as Parameters<typeof failUpload>[1], reason, ctx);
      },
    },
    { ...opts, maxReceiveCount: MAX_RECEIVE_COUNT },
  );
}

export const handler = createHandler(undefined, { changeVisibility: awsVisibilityChanger });
