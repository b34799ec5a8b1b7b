import type { FailureReason, JobParams, ReasonCode } from "@reelbridge/events";
import { TransientError } from "../errors";
import { errorFields } from "../logger";
import type { Clock, EventPublisher, JobRecord, JobStore, Logger, OutgoingEvent, StepStateStore } from "../ports";
import { DEFAULT_WEBHOOK_TIMEOUT_MS, WebhookNetworkError } from "../notify/http";
import type { WebhookSender } from "../notify/http";
import { checkEndpointUrl, UnsafeEndpointError } from "../notify/ssrf";
import type { EndpointPolicy } from "../notify/ssrf";
import { endpointKey, redactUrl, signWebhook, webhookCost, webhookIdFor, webhookPayload, webhookTypeOf } from "../notify/webhook";
import { versionField, versionOf } from "../render/record";
import type { NotifiedEvent, WebhookLinks } from "../notify/webhook";
import { backoffMs } from "../backoff";

/**
 * The notifier: one pipeline event → one signed Standard Webhook to each endpoint (the job's
 * callback URL, then the stage's configured endpoints).
 *
 * Retries happen at two levels. Within one invocation, a few quick attempts with exponential
 * backoff and jitter (honouring a short Retry-After), bounded by the invocation's time budget.
 * Beyond that the use-case throws a TransientError and the queue redelivers the event after its
 * visibility timeout; on the queue's last receive it emits NotificationFailed (RetriesExhausted)
 * and still throws, so the message lands in the DLQ.
 *
 * Idempotency: the `webhook-id` is derived from (pipeline eventId, endpoint URL), so it is the
 * same for every retry and every duplicate delivery of the event. A state record per webhook
 * (`notify:<webhookId>`) remembers the outcome, so a duplicate event never sends again after a
 * success or a permanent failure.
 */

export interface NotifyRetryOptions {
  /** Attempts per endpoint within one invocation. */
  attemptsPerInvocation: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A longer Retry-After is left to the queue's redelivery instead of sleeping in the Lambda. */
  maxInlineRetryAfterSeconds: number;
  /** Wall time this invocation may spend (the function timeout minus a margin). */
  budgetMs: number;
  /** The sender's per-request timeout: an attempt only starts if it can finish in the budget. */
  requestTimeoutMs: number;
}

export const DEFAULT_NOTIFY_RETRY: NotifyRetryOptions = {
  attemptsPerInvocation: 3,
  baseDelayMs: 1_000,
  maxDelayMs: 8_000,
  maxInlineRetryAfterSeconds: 10,
  budgetMs: 50_000,
  requestTimeoutMs: DEFAULT_WEBHOOK_TIMEOUT_MS,
};

export interface NotifyDeps {
  sender: WebhookSender;
  /** The stage's `whsec_…` signing secret (SST secret NOTIFY_WEBHOOK_SECRET). */
  secret: string;
  state: StepStateStore;
  publisher: EventPublisher;
  logger: Logger;
  clock?: Clock;
  /** Endpoints that receive every job's notifications (stage config). */
  stageEndpoints: readonly string[];
  policy: EndpointPolicy;
  /** Builds the payload's links (see notify/links.ts). */
  links: (event: NotifiedEvent) => Promise<WebhookLinks>;
  /** The job's record, for the payload's cost so far (notify/webhook.ts webhookCost); absent: no cost. */
  jobs?: Pick<JobStore, "get">;
  retry?: Partial<NotifyRetryOptions>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface NotifyContext {
  /** 1-based receive count of the queue message. */
  attempt: number;
  /** True on the queue's last receive: a failure now goes to the DLQ. */
  lastAttempt: boolean;
}

export type EndpointOutcome =
  | "delivered"
  | "already-delivered"
  /** 410 Gone now, or the endpoint was disabled by an earlier 410. */
  | "gone"
  | "unsafe"
  /** A permanent failure recorded by an earlier delivery of the same event. */
  | "already-failed"
  /** Not delivered yet: left to the queue's next redelivery. */
  | "pending"
  | "exhausted";

export interface EndpointResult {
  kind: "callback" | "stage";
  /** Scheme, host and path only. */
  endpoint: string;
  webhookId: string;
  outcome: EndpointOutcome;
  /** Attempts so far, across invocations. */
  attempts: number;
  statusCode?: number;
}

/**
 * The StepStateStore is keyed by jobId. Stage endpoints are not a job's: their "disabled after
 * 410" records live under this fixed pseudo job id (the all-zero ULID, so it also satisfies
 * stores that validate job ids). To re-enable an endpoint, delete its `endpoint-disabled:` record
 * or change its URL. A callback URL belongs to one job, so its record lives under that job.
 */
export const STAGE_ENDPOINTS_STATE_JOB_ID = "00000000000000000000000000";

type WebhookState = {
  status: "pending" | "delivered" | "gone" | "unsafe" | "exhausted";
  attempts: number;
  endpoint: string;
  statusCode?: number;
  announced?: boolean;
  updatedAt: string;
};

const PERMANENT_STATES = new Set(["gone", "unsafe"]);

export async function notifyEvent(deps: NotifyDeps, event: NotifiedEvent, ctx: NotifyContext): Promise<EndpointResult[]> {
  const retry = { ...DEFAULT_NOTIFY_RETRY, ...deps.retry };
  const clock = deps.clock ?? { now: () => new Date() };
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = deps.random ?? Math.random;
  const started = Date.now();
  const { metadata, data } = event.detail;
  const jobId = metadata.jobId;
  const job = (data as { job?: JobParams }).job;
  const webhookType = webhookTypeOf(event["detail-type"]);
  const log = deps.logger;

  const endpoints: Array<{ kind: "callback" | "stage"; url: string }> = [];
  if (job?.callbackUrl) endpoints.push({ kind: "callback", url: job.callbackUrl });
  for (const url of deps.stageEndpoints) if (!endpoints.some((e) => e.url === url)) endpoints.push({ kind: "stage", url });
  if (endpoints.length === 0) {
    log.info("no webhook endpoints for this job", { eventId: metadata.eventId });
    return [];
  }

  // One body for every endpoint and every attempt: the signature covers exactly these bytes.
  // The cost as the record shows it now (a later redelivery may carry a larger figure).
  let record: JobRecord | undefined;
  try {
    record = await deps.jobs?.get(jobId);
  } catch (err) {
    // The webhook still goes out, with the event's own lines only.
    log.warn("could not read the job's cost for the webhook", { eventId: metadata.eventId, ...errorFields(err) });
  }
  const cost = deps.jobs ? webhookCost(record, event) : undefined;
  const body = JSON.stringify(webhookPayload(event, await deps.links(event), cost));

  const announce = async (e: OutgoingEvent) => {
    // VideoBaseFailed may lack the job (unreadable upload metadata); the notification events
    // require it, so the outcome is only logged then.
    if (!job) return log.warn("notification outcome not published: the event carries no job parameters", { type: e.type, eventId: e.eventId });
    await deps.publisher.publish([e]);
  };

  const deliverTo = async ({ kind, url }: { kind: "callback" | "stage"; url: string }): Promise<EndpointResult & { retryAfterSeconds?: number; lastError?: string }> => {
    const webhookId = webhookIdFor(metadata.eventId, url);
    const endpoint = redactUrl(url);
    const stateName = `notify:${webhookId}`;
    const disabledJobId = kind === "callback" ? jobId : STAGE_ENDPOINTS_STATE_JOB_ID;
    const disabledName = `endpoint-disabled:${endpointKey(url)}`;
    const elog = { webhookId, endpoint, kind };
    const common = { kind, endpoint, webhookId };
    const endpointRef = { kind, url: endpoint };

    const prior = (await deps.state.get(jobId, stateName)) as WebhookState | undefined;
    let attempts = Number(prior?.attempts ?? 0);

    const record = (s: Omit<WebhookState, "endpoint" | "updatedAt">) =>
      deps.state.update(jobId, stateName, { ...s, endpoint, updatedAt: clock.now().toISOString() });

    const delivered = (statusCode: number): OutgoingEvent<"NotificationDelivered"> => ({
      type: "NotificationDelivered",
      eventId: `${webhookId}-delivered`,
      jobId,
      causationId: metadata.eventId,
      data: { job: job!, ...versionField(versionOf(data)), endpoint: endpointRef, webhookId, webhookType, notifiedEventId: metadata.eventId, attempts: Math.max(1, attempts), statusCode },
    });
    const failed = (code: ReasonCode, message: string, lastStatusCode?: number): OutgoingEvent<"NotificationFailed"> => {
      const reason: FailureReason = { code, message: message.slice(0, 2000), retryable: false };
      return {
        type: "NotificationFailed",
        eventId: `${webhookId}-failed`,
        jobId,
        causationId: metadata.eventId,
        data: {
          job: job!,
          ...versionField(versionOf(data)),
          endpoint: endpointRef,
          webhookId,
          webhookType,
          notifiedEventId: metadata.eventId,
          attempts,
          ...(lastStatusCode !== undefined ? { lastStatusCode } : {}),
          reason,
        },
      };
    };
    const failPermanently = async (status: "gone" | "unsafe", code: ReasonCode, message: string, statusCode?: number) => {
      await record({ status, attempts, ...(statusCode !== undefined ? { statusCode } : {}) });
      await announce(failed(code, message, statusCode));
      await record({ status, attempts, ...(statusCode !== undefined ? { statusCode } : {}), announced: true });
      log.warn("webhook not delivered", { ...elog, code, message, attempts });
      return { ...common, outcome: status, attempts, ...(statusCode !== undefined ? { statusCode } : {}) } as const;
    };

    if (prior?.status === "delivered") {
      // Announce again if the earlier invocation stored the outcome but died before publishing.
      if (!prior.announced) {
        await announce(delivered(Number(prior.statusCode ?? 200)));
        await record({ ...prior, announced: true });
      }
      log.info("webhook already delivered; not sending again", elog);
      return { ...common, outcome: "already-delivered", attempts, ...(prior.statusCode !== undefined ? { statusCode: prior.statusCode } : {}) };
    }
    if (prior && PERMANENT_STATES.has(prior.status)) {
      log.info("webhook already failed permanently; not sending again", { ...elog, status: prior.status });
      return { ...common, outcome: "already-failed", attempts };
    }

    const disabled = await deps.state.get(disabledJobId, disabledName);
    if (disabled) {
      return failPermanently("gone", "EndpointGone", `${endpoint} was disabled after it answered 410 Gone at ${String(disabled.disabledAt ?? "an earlier delivery")}`);
    }
    try {
      checkEndpointUrl(url, deps.policy);
    } catch (err) {
      if (err instanceof UnsafeEndpointError) return failPermanently("unsafe", "UnsafeEndpoint", `${endpoint}: ${err.message}`);
      throw err;
    }

    let lastStatus: number | undefined;
    let lastError = "no attempt made";
    let retryAfterSeconds: number | undefined;
    let nextDelayMs = 0;
    for (let i = 1; i <= retry.attemptsPerInvocation; i++) {
      if (i > 1) {
        const elapsed = Date.now() - started;
        if (elapsed + nextDelayMs + retry.requestTimeoutMs > retry.budgetMs) break;
        await sleep(nextDelayMs);
      }
      attempts += 1;
      await record({ status: "pending", attempts });
      const headers = signWebhook(deps.secret, webhookId, clock.now(), body);
      try {
        const res = await deps.sender.send({ url, headers, body });
        lastStatus = res.status;
        retryAfterSeconds = res.retryAfterSeconds;
        if (res.status >= 200 && res.status < 300) {
          await record({ status: "delivered", attempts, statusCode: res.status });
          await announce(delivered(res.status));
          await record({ status: "delivered", attempts, statusCode: res.status, announced: true });
          log.info("webhook delivered", { ...elog, attempts, statusCode: res.status });
          return { ...common, outcome: "delivered", attempts, statusCode: res.status };
        }
        if (res.status === 410) {
          await deps.state.putIfAbsent(disabledJobId, disabledName, { endpoint, disabledAt: clock.now().toISOString(), webhookId });
          return failPermanently("gone", "EndpointGone", `${endpoint} answered 410 Gone; the endpoint is disabled`, 410);
        }
        lastError =
          res.status >= 300 && res.status < 400 ? `${endpoint} answered ${res.status} (redirects are not followed)` : `${endpoint} answered ${res.status}`;
        log.warn("webhook attempt failed", { ...elog, attempt: attempts, statusCode: res.status, retryAfterSeconds: res.retryAfterSeconds });
        if (res.retryAfterSeconds !== undefined) {
          if (res.retryAfterSeconds > retry.maxInlineRetryAfterSeconds) break;
          nextDelayMs = res.retryAfterSeconds * 1000;
          continue;
        }
      } catch (err) {
        if (err instanceof UnsafeEndpointError) return failPermanently("unsafe", "UnsafeEndpoint", `${endpoint}: ${err.message}`);
        if (!(err instanceof WebhookNetworkError)) throw err;
        lastStatus = undefined;
        retryAfterSeconds = undefined;
        lastError = err.message;
        log.warn("webhook attempt failed", { ...elog, attempt: attempts, ...errorFields(err) });
      }
      nextDelayMs = backoffMs(i, { baseMs: retry.baseDelayMs, maxMs: retry.maxDelayMs, random });
    }

    if (ctx.lastAttempt) {
      await record({ status: "exhausted", attempts, ...(lastStatus !== undefined ? { statusCode: lastStatus } : {}) });
      await announce(failed("RetriesExhausted", `gave up after ${attempts} attempts: ${lastError}`, lastStatus));
      log.error("webhook retries exhausted", { ...elog, attempts, lastError });
      return { ...common, outcome: "exhausted", attempts, ...(lastStatus !== undefined ? { statusCode: lastStatus } : {}), lastError };
    }
    return {
      ...common,
      outcome: "pending",
      attempts,
      ...(lastStatus !== undefined ? { statusCode: lastStatus } : {}),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      lastError,
    };
  };

  const results = await Promise.all(endpoints.map(deliverTo));
  const open = results.filter((r) => r.outcome === "pending" || r.outcome === "exhausted");
  if (open.length > 0) {
    const retryAfters = open.map((r) => r.retryAfterSeconds).filter((s): s is number => s !== undefined);
    throw new TransientError(`webhook not delivered yet: ${open.map((r) => r.lastError).join("; ")}`, {
      code: "DeliveryFailed",
      ...(retryAfters.length ? { retryAfterSeconds: Math.max(...retryAfters) } : {}),
    });
  }
  return results.map(({ retryAfterSeconds: _r, lastError: _e, ...r }) => r);
}
