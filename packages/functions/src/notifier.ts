import type { PipelineEvent } from "@reelbridge/events";
import { parseEvent } from "@reelbridge/events";
import { InvalidEventError } from "@reelbridge/core";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { createHttpWebhookSender, DEFAULT_WEBHOOK_TIMEOUT_MS } from "@reelbridge/core/notify/http";
import { createLinkBuilder } from "@reelbridge/core/notify/links";
import { notifiedTypes } from "@reelbridge/core/notify/webhook";
import type { NotifiedEvent, NotifiedType } from "@reelbridge/core/notify/webhook";
import { notifyEvent } from "@reelbridge/core/usecases/notify";
import type { NotifyDeps } from "@reelbridge/core/usecases/notify";
import { once } from "./lib/env";
import { pipelineJobId, queueStep } from "./lib/handlers";
import { lambdaArchOf, stepLambdaCost, withStepCost } from "./lib/step-cost";
import type { QueueHandlerOptions } from "./lib/handlers";
import { queuedSubscriptionNamed } from "./lib/topology";
import { awsPlatform } from "./lib/aws-platform";
import type { Platform } from "./lib/platform";
import { awsVisibilityChanger } from "./lib/aws";

/** What the notifier runs with; the local runtime passes its demo receiver's policy and stores. */
export type Deps = Omit<NotifyDeps, "logger">;

export const NAME = "notifier";

const subscription = queuedSubscriptionNamed(NAME);
export const MAX_RECEIVE_COUNT = subscription.delivery.maxReceiveCount;
/** Quick retries stop early enough to record the outcome before the function times out. */
export const INVOCATION_BUDGET_MS = Math.max(1, subscription.timeoutSeconds - 5) * 1000;

/** Dependencies from a platform (AWS, or the local runtime's peers). AWS stages never allow private
 * or loopback endpoints; the status API's URL is given when the notifier `reaches` it (links.status). */
export async function buildDeps(p: Platform): Promise<Deps> {
  const policy = p.webhookPolicy();
  const statusApiBaseUrl = p.endpointUrl("status-api");
  return {
    sender: createHttpWebhookSender({ policy, timeoutMs: DEFAULT_WEBHOOK_TIMEOUT_MS }),
    secret: await p.secret("NOTIFY_WEBHOOK_SECRET"),
    state: p.stepState(),
    publisher: p.publisher(NAME),
    stageEndpoints: p.stageWebhookEndpoints(),
    policy,
    links: createLinkBuilder({
      blobs: p.blobs(),
      ...(statusApiBaseUrl ? { statusApiBaseUrl } : {}),
      ...(p.publicMediaBaseUrl ? { publicMediaBaseUrl: p.publicMediaBaseUrl } : {}),
    }),
    retry: { budgetMs: INVOCATION_BUDGET_MS, requestTimeoutMs: DEFAULT_WEBHOOK_TIMEOUT_MS },
    // The payload's cost so far (the job record).
    jobs: p.jobs(),
  };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform());

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
      // Its invocations' GB-s go on NotificationDelivered / NotificationFailed (cost ledger, issue #13).
      usageStore: async () => (await deps()).state,
      run: async (event, ctx) => {
        const d = await deps();
        const publisher = withStepCost(d.publisher, ["NotificationDelivered", "NotificationFailed"], () => stepLambdaCost(ctx, NAME, lambdaArchOf(queuedSubscriptionNamed(NAME))));
        await notifyEvent({ ...d, publisher, logger: ctx.logger }, event, ctx);
      },
    },
    { ...opts, maxReceiveCount: MAX_RECEIVE_COUNT },
  );
}

export const handler = createHandler(undefined, { changeVisibility: awsVisibilityChanger });
