import type { PipelineEvent } from "@reelbridge/events";
import { parseEvent } from "@reelbridge/events";
import { InvalidEventError } from "@reelbridge/core";
import { createDynamoStepStateStore } from "@reelbridge/core/adapters/aws/dynamodb-step-state-store";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { createS3BlobStore } from "@reelbridge/core/adapters/aws/s3-blob-store";
import { createHttpWebhookSender, DEFAULT_WEBHOOK_TIMEOUT_MS } from "@reelbridge/core/notify/http";
import { createLinkBuilder } from "@reelbridge/core/notify/links";
import { notifiedTypes } from "@reelbridge/core/notify/webhook";
import type { NotifiedEvent, NotifiedType } from "@reelbridge/core/notify/webhook";
import { notifyEvent } from "@reelbridge/core/usecases/notify";
import type { NotifyDeps } from "@reelbridge/core/usecases/notify";
import { dynamoDocClient, eventBridgeClient, eventBridgePublisher, s3Client } from "./lib/aws";
import { functionEnv, once, optionalEnv, sstSecret } from "./lib/env";
import { pipelineJobId, queueStep } from "./lib/handlers";
import type { QueueHandlerOptions } from "./lib/handlers";
import { queuedSubscriptionNamed } from "./lib/topology";
import { endpointUrlEnv } from "./topology";
import { stageConfig } from "./stage-config";

/** What the notifier runs with; the local runtime passes its demo receiver's policy and stores. */
export type Deps = Omit<NotifyDeps, "logger">;

export const NAME = "notifier";

const subscription = queuedSubscriptionNamed(NAME);
export const MAX_RECEIVE_COUNT = subscription.delivery.maxReceiveCount;
/** Quick retries stop early enough to record the outcome before the function times out. */
export const INVOCATION_BUDGET_MS = Math.max(1, subscription.timeoutSeconds - 5) * 1000;

/**
 * Production dependencies, once per cold start. AWS stages never allow private or loopback
 * endpoints. Optional environment: STATUS_API_URL (the status API's base URL, for the payload's
 * `links.status`) and PUBLIC_MEDIA_URL (a public origin for jobs/, enabling `links.hls`).
 */
export async function defaultDeps(): Promise<Deps> {
  const env = functionEnv();
  const cfg = stageConfig(env.stage);
  const policy = { requireHttps: cfg.notifier.requireHttps };
  const statusApiBaseUrl = optionalEnv(endpointUrlEnv("status-api"));
  const publicMediaBaseUrl = optionalEnv("PUBLIC_MEDIA_URL");
  return {
    sender: createHttpWebhookSender({ policy, timeoutMs: DEFAULT_WEBHOOK_TIMEOUT_MS }),
    secret: await sstSecret("NOTIFY_WEBHOOK_SECRET"),
    state: createDynamoStepStateStore(dynamoDocClient(), { table: env.jobsTable }),
    publisher: eventBridgePublisher(eventBridgeClient(), { busName: env.busName, producer: NAME }),
    stageEndpoints: cfg.notifier.endpoints,
    policy,
    links: createLinkBuilder({
      blobs: createS3BlobStore(s3Client(), { bucket: env.mediaBucket }),
      ...(statusApiBaseUrl ? { statusApiBaseUrl } : {}),
      ...(publicMediaBaseUrl ? { publicMediaBaseUrl } : {}),
    }),
    retry: { budgetMs: INVOCATION_BUDGET_MS, requestTimeoutMs: DEFAULT_WEBHOOK_TIMEOUT_MS },
  };
}

const isNotified = (t: unknown): t is NotifiedType => typeof t === "string" && (notifiedTypes as readonly string[]).includes(t);

export function parseNotifiedEvent(raw: unknown): NotifiedEvent {
  const type = (raw as { "detail-type"?: unknown } | null)?.["detail-type"];
  if (!isNotified(type)) throw new InvalidEventError(`the notifier does not handle ${JSON.stringify(type)}`);
  return parseEvent(type, raw) as PipelineEvent<NotifiedType> as NotifiedEvent;
}

/**
 * The notifier: RenderCompleted, SegmentsReady and every *Failed → signed Standard Webhooks to
 * the job's callback and the stage's endpoints, from a queue. Not delivered yet → the message
 * is retried by the queue; the use-case itself emits NotificationFailed on the last receive, so
 * there is no `fail` here (a notifier problem never fails the job).
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps), opts: QueueHandlerOptions = {}) {
  return queueStep<NotifiedEvent>(
    {
      name: NAME,
      parse: parseNotifiedEvent,
      jobIdOf: pipelineJobId,
      // Reports outcomes: only the job's own, to the job's own callback (its recorded parameters).
      role: "follow",
      ledger: async () => createJobLedger((await deps()).state),
      run: async (event, ctx) => {
        await notifyEvent({ ...(await deps()), logger: ctx.logger }, event, ctx);
      },
    },
    { ...opts, maxReceiveCount: MAX_RECEIVE_COUNT },
  );
}

export const handler = createHandler();
