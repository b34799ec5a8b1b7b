import middy from "@middy/core";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { DetailType, FailureReason, PipelineEvent } from "@reelbridge/events";
import { CheckLaterError, InvalidEventError, UntrustedEventError, describeZodError, errorFields, permanentReason } from "@reelbridge/core";
import type { JobStore, Logger, StepStateStore } from "@reelbridge/core";
import { invocationKey } from "@reelbridge/core/jobs/cost-ledger";
import type { OwnInvocation } from "@reelbridge/core/jobs/cost-ledger";
import type { LambdaArch } from "@reelbridge/core/jobs/cost";
import { createLambdaUsageLedger, gbSecondsOf } from "@reelbridge/core/jobs/lambda-usage";
import type { StepUsage } from "@reelbridge/core/jobs/lambda-usage";
import type { JobLedger, JobView } from "@reelbridge/core/jobs/ledger";
import { admitEvent, assertEventConsistent } from "@reelbridge/core/jobs/trust";
import type { ConsumerRole } from "@reelbridge/core/jobs/trust";
import { JOB_ID_IN_TEXT, eventJobId, uploadKeyJobId } from "@reelbridge/core/upload/keys";
import { versionOf } from "@reelbridge/core/render/record";
import { ZodError } from "zod";
import { queueUrlFromArn, redeliveryDelaySeconds } from "./visibility";
import type { ChangeVisibility } from "./visibility";

/**
 * The shared shape of every handler (STYLE.md, "Handlers are a few lines"): middy, structured
 * JSON logs with the jobId on every line, contract parsing at the boundary, and the one
 * mapping from errors to platform behaviour:
 *   - invalid event or permanent error → the step's `fail` emits its *Failed event; not retried
 *   - transient error → thrown, so the platform retries (SQS redelivery / async retries); a
 *     queued record is first made visible again after its Retry-After or a backoff (visibility.ts)
 *   - transient error on the queue's last receive → `fail` with RetriesExhausted, then the
 *     message still goes to the DLQ, so the job is visibly failed and nothing is lost.
 *
 * Pipeline events (steps with a `role`) are input too (issue #11 items 3 and 4), checked here
 * for every step before it acts (core/jobs/trust.ts):
 *   - inconsistent (metadata.jobId ≠ data.job.jobId, a key outside jobs/{jobId}/ such as
 *     `../../secrets.json`) → InvalidEventError: never retried; `fail` ends the job only where
 *     the step's ledger shows it is the job's live step (otherwise a forger could end any job);
 *   - contradicting the ledger (a job never started, another job's parameters, an outcome that
 *     is not the job's, anything for a terminal job the step would act on) → dropped: logged
 *     with the reason, nothing written, nothing sent, never retried.
 */

export interface StepContext {
  logger: Logger;
  /** 1-based delivery attempt (SQS ApproximateReceiveCount); 1 for direct invocations. */
  attempt: number;
  /** True when a failure now sends the event to the DLQ. */
  lastAttempt: boolean;
  /**
   * This step's Lambda usage for the job so far: its earlier invocations (recorded in step
   * state, lambda-usage.ts) plus this one up to now (duration × the configured memory), for the
   * Lambda line of the event that ends the step. Zero when the step records none.
   */
  lambdaUsage: () => Promise<StepUsage & { memoryMB: number }>;
  /** This invocation so far: its request id, wall time and configured memory (the DB writer's own cost line). */
  invocation: () => { id: string; ms: number; memoryMB: number };
}

/** This invocation: when it started and the memory it has (context.memoryLimitInMB; the topology's memoryMB locally). */
export interface InvocationMeter {
  startedAt: number;
  memoryMB: number;
  /** context.awsRequestId (one per invocation; a retry is another invocation, with another id). */
  requestId: string;
}

export const startMeter = (context: Context | undefined): InvocationMeter => ({
  startedAt: performance.now(),
  memoryMB: Number(context?.memoryLimitInMB) || 0,
  requestId: (typeof context?.awsRequestId === "string" && context.awsRequestId) || `${Date.now()}-${Math.random().toString(36).slice(2)}`,
});

/**
 * Where a function that publishes no step-ending event of its own puts its measured invocations:
 * straight onto the job record (JobStore.recordInvocations, jobs/cost-ledger.ts `invocations`),
 * one entry per (invocation, job), at the function's architecture.
 */
export interface JobMeter {
  jobs: () => Promise<Pick<JobStore, "recordInvocations"> | undefined>;
  arch: LambdaArch;
}

/** This invocation's entry for one job of `shareOf` jobs it handled. */
export const ownInvocation = (fn: string, meter: InvocationMeter, arch: LambdaArch, shareOf = 1, suffix = ""): Record<string, OwnInvocation> => ({
  [invocationKey(fn, `${meter.requestId}${suffix}`)]: { fn, ms: (performance.now() - meter.startedAt) / Math.max(1, shareOf), memoryMB: meter.memoryMB, arch },
});

/**
 * Writes this invocation onto each job's record (split evenly across the jobs it handled). Best
 * effort: a failure is logged, never retried, and never changes the function's answer.
 */
export async function meterOnJobs(fn: string, jobMeter: JobMeter | undefined, meter: InvocationMeter, jobIds: readonly string[], logger: Pick<Logger, "warn">): Promise<void> {
  const known = [...new Set(jobIds.filter((j) => typeof j === "string" && j.length > 0))];
  if (!jobMeter || !known.length || !(meter.memoryMB > 0)) return;
  try {
    const store = await jobMeter.jobs();
    if (!store?.recordInvocations) return;
    await Promise.all(known.map((jobId, i) => store.recordInvocations!(jobId, ownInvocation(fn, meter, jobMeter.arch, known.length, known.length > 1 ? `-${i}` : ""))));
  } catch (err) {
    logger.warn("could not record the invocation on the job's cost", { jobIds: known, ...errorFields(err) });
  }
}

export interface StepDefinition<E> {
  /** Topology subscription name, used as the logger's service name. */
  name: string;
  /** Parses the EventBridge event against its contract; throws (ZodError) when it does not fit. */
  parse: (raw: unknown) => E;
  /** Best-effort jobId of a raw event, for logs and for failing the job when parsing fails. */
  jobIdOf: (raw: unknown) => string | undefined;
  run: (event: E, ctx: StepContext) => Promise<void>;
  /** Ends the job visibly (emits the step's *Failed event). Called with the raw event. */
  fail?: (raw: unknown, reason: FailureReason, ctx: StepContext) => Promise<void>;
  /**
   * For pipeline events: how the step acts on a job (core/jobs/trust.ts). Every event is then
   * checked for consistency, and against the ledger when the step has one.
   */
  role?: ConsumerRole;
  /** What the pipeline knows of each job (core/jobs/ledger.ts); undefined when the step has no store for it. */
  ledger?: () => Promise<JobLedger | undefined>;
  /** Where the step's per-job Lambda usage is recorded (lambda-usage.ts); undefined: not measured. */
  usageStore?: () => Promise<StepStateStore | undefined>;
  /** For a step that ends no step with an event of its own: its invocations go on the job record directly. */
  jobMeter?: JobMeter;
}

const metadataOf = (raw: unknown): { eventId?: unknown } | undefined => (raw as { detail?: { metadata?: { eventId?: unknown } } } | null)?.detail?.metadata;

/**
 * Whether an invalid event may end its job through the step's `fail`: only where the ledger
 * shows the job is the step's to end (started, and for a step that follows the outcome, this
 * event claims to be that outcome). Without a ledger: an event that broke its contract does (as
 * it always did), an inconsistent one does not.
 */
function mayEnd(role: ConsumerRole | undefined, view: JobView | undefined, raw: unknown, kind: "contract" | "consistency"): boolean {
  if (!role) return true;
  if (!view) return kind === "contract";
  if (!view.known) return false;
  // For a render version (docs/decisions/0009), its own outcome is the one that counts.
  const outcome = view.version ? (view.version.record ? view.version.outcome : { type: "none" as const, eventId: "" }) : view.outcome;
  if (role === "act") return !outcome && view.outcome?.type !== "JobCancelled";
  return outcome?.type === "RenderCompleted" && outcome.eventId === metadataOf(raw)?.eventId;
}

export const makeLogger = (service: string): PowertoolsLogger =>
  new PowertoolsLogger({ serviceName: `reelbridge-${service}`, logLevel: (process.env.LOG_LEVEL as "INFO") ?? "INFO" });

/**
 * `message` is Powertools' own key (the line's text): an extra field of that name would be
 * dropped with a warning, losing e.g. why a request was rejected. It is logged as `why`.
 */
const withoutReservedKeys = (e: Record<string, unknown> | undefined): Record<string, unknown> => {
  if (!e || !("message" in e)) return e ?? {};
  const { message, ...rest } = e;
  return { ...rest, why: message };
};

/** Core's Logger port over a Powertools logger (structured JSON, persistent keys). */
export const asLogger = (l: PowertoolsLogger): Logger => ({
  debug: (m, e) => l.debug(m, withoutReservedKeys(e)),
  info: (m, e) => l.info(m, withoutReservedKeys(e)),
  warn: (m, e) => l.warn(m, withoutReservedKeys(e)),
  error: (m, e) => l.error(m, withoutReservedKeys(e)),
});

/** Processes one EventBridge event through a step definition. Throws only transient errors. */
export async function processEvent<E>(def: StepDefinition<E>, raw: unknown, base: PowertoolsLogger, attempt: number, lastAttempt: boolean, meter: InvocationMeter = startMeter(undefined)): Promise<void> {
  const jobId = def.jobIdOf(raw);
  const log = base.createChild({ persistentKeys: { jobId: jobId ?? "unknown", attempt } });
  const lambdaUsage = async () => {
    const current = { ms: performance.now() - meter.startedAt, memoryMB: meter.memoryMB };
    const store = def.usageStore && jobId ? await def.usageStore() : undefined;
    const before = store && jobId ? await createLambdaUsageLedger(store).read(jobId, def.name) : { invocations: 0, ms: 0, gbSeconds: 0 };
    const now = meter.memoryMB > 0 ? current : { ms: 0, memoryMB: 0 };
    return { invocations: before.invocations + 1, ms: before.ms + now.ms, gbSeconds: before.gbSeconds + (now.memoryMB ? gbSecondsOf(now) : 0), memoryMB: meter.memoryMB };
  };
  const invocation = () => ({ id: meter.requestId, ms: performance.now() - meter.startedAt, memoryMB: meter.memoryMB });
  const ctx: StepContext = { logger: asLogger(log), attempt, lastAttempt, lambdaUsage, invocation };
  const eventId = (raw as { id?: string } | null)?.id;
  let ledger: JobLedger | undefined;
  try {
    ledger = def.role && def.ledger ? await def.ledger() : undefined;
  } catch (err) {
    // The step's dependencies could not be built (a secret that is refused, a store that is
    // unreachable): said here, with the job, since nothing below runs to say it.
    log.error("could not set up the step's dependencies; the event goes back to its queue", { eventId, ...errorFields(err) });
    throw err;
  }
  const rejectInvalid = async (invalid: unknown, kind: "contract" | "consistency") => {
    const reason = permanentReason(invalid);
    if (!reason) throw invalid;
    log.error("rejected invalid event", { eventId, ...errorFields(invalid) });
    if (!def.fail || !jobId) return;
    const view = ledger ? await ledger.view(jobId, { version: versionOf((raw as { detail?: { data?: unknown } } | null)?.detail?.data) }) : undefined;
    if (mayEnd(def.role, view, raw, kind)) await def.fail(raw, reason, ctx);
    else log.warn("not ending the job for an invalid event: the pipeline's records do not make it this step's job to end", { eventId, known: view?.known, outcome: view?.outcome?.type });
  };
  let event: E;
  try {
    event = def.parse(raw);
  } catch (err) {
    return rejectInvalid(err instanceof ZodError ? new InvalidEventError(`event does not match its contract: ${describeZodError(err)}`, { cause: err }) : err, "contract");
  }
  if (def.role) {
    const pipelineEvent = event as unknown as PipelineEvent<DetailType>;
    try {
      assertEventConsistent(pipelineEvent);
    } catch (err) {
      return rejectInvalid(err, "consistency");
    }
    if (ledger) {
      // A render version's events are checked against that version's records too (docs/decisions/0009).
      const view = await ledger.view(pipelineEvent.detail.metadata.jobId, { version: versionOf(pipelineEvent.detail.data) });
      const admission = admitEvent(view, pipelineEvent, def.role);
      if (!admission.admitted) {
        log.error("rejected an event the pipeline's records contradict; nothing done", { eventId, detailType: pipelineEvent["detail-type"], code: "InvalidEvent", why: admission.why });
        return;
      }
    }
  }
  try {
    log.info("processing", { eventId, detailType: (raw as Record<string, unknown>)["detail-type"] });
    await def.run(event, ctx);
  } catch (err) {
    if (err instanceof UntrustedEventError) {
      log.error("rejected an event the pipeline's records contradict; nothing done", { eventId, ...errorFields(err) });
      return;
    }
    const reason = permanentReason(err);
    if (reason) {
      log.error("permanent failure", { eventId, ...errorFields(err) });
      if (def.fail) await def.fail(raw, reason, ctx);
      return;
    }
    if (err instanceof CheckLaterError && !lastAttempt) {
      // Not a failure: the step asked the queue to bring the message back later.
      log.info("check scheduled", { eventId, retryAfterSeconds: err.retryAfterSeconds, why: err.message });
      throw err;
    }
    log.warn("transient failure, will be retried", { eventId, lastAttempt, ...errorFields(err) });
    if (lastAttempt && def.fail) {
      await def.fail(raw, { code: "RetriesExhausted", message: `gave up after ${attempt} attempts: ${(err as Error).message}`.slice(0, 2000), retryable: false }, ctx);
    }
    throw err;
  }
}

export interface QueueStepOptions {
  maxReceiveCount: number;
  /**
   * Sets a failed record's visibility to its redelivery delay: the deployed handlers pass SQS's
   * (`awsVisibilityChanger`), the local runtime `keepVisibility`; without one nothing is changed.
   */
  changeVisibility?: ChangeVisibility;
  /** For tests: the jitter source of the backoff. */
  random?: () => number;
}

/** Options every queued handler's createHandler accepts (after its deps). */
export type QueueHandlerOptions = Pick<QueueStepOptions, "changeVisibility">;


/**
 * A step consumed from an SQS queue (the rule targets the queue). Reports batch item failures,
 * also when every record of the batch failed, after setting each failed record's visibility to
 * its redelivery delay (a failure there is logged; the record is still reported failed).
 */
export function queueStep<E>(def: StepDefinition<E>, opts: QueueStepOptions) {
  const logger = makeLogger(def.name);
  const processor = new BatchProcessor(EventType.SQS);
  const deferRedelivery = async (r: SQSRecord, err: unknown, attempt: number, change: ChangeVisibility | undefined) => {
    if (!change) return;
    const queueUrl = queueUrlFromArn(r.eventSourceARN);
    const visibilityTimeoutSeconds = redeliveryDelaySeconds(err, attempt, opts.random);
    const fields = { messageId: r.messageId, attempt, visibilityTimeoutSeconds };
    if (!queueUrl) {
      logger.warn("cannot defer redelivery: the record's eventSourceARN is not a queue ARN", { ...fields, eventSourceARN: r.eventSourceARN });
      return;
    }
    try {
      await change({ queueUrl, receiptHandle: r.receiptHandle, visibilityTimeoutSeconds, reason: err instanceof CheckLaterError ? "check" : "retry" });
      logger.info("redelivery deferred", fields);
    } catch (changeErr) {
      // The record is still reported failed: it comes back after the queue's own timeout.
      logger.error("could not change the record's visibility", { ...fields, ...errorFields(changeErr) });
    }
  };
  const recordHandler = (change: ChangeVisibility | undefined, meter: InvocationMeter) => async (r: SQSRecord) => {
    const attempt = Number(r.attributes.ApproximateReceiveCount ?? "1");
    let raw: unknown;
    try {
      raw = JSON.parse(r.body);
    } catch {
      logger.error("queue message is not JSON; dropping", { messageId: r.messageId });
      return;
    }
    try {
      await processEvent(def, raw, logger, attempt, attempt >= opts.maxReceiveCount, meter);
    } catch (err) {
      await deferRedelivery(r, err, attempt, change);
      throw err;
    }
  };
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const change = opts.changeVisibility;
    const meter = startMeter(context);
    try {
      return await processPartialResponse(event, recordHandler(change, meter), processor, { context, throwOnFullBatchFailure: false });
    } finally {
      await recordUsage(def, logger, event.Records.map((r) => r.body), context, meter);
    }
  });
}

/**
 * Records this invocation's duration × memory for each job it handled (split evenly across a
 * batch), in step state (lambda-usage.ts). Best effort: a failure is logged, never retried.
 */
async function recordUsage<E>(def: StepDefinition<E>, logger: PowertoolsLogger, bodies: unknown[], context: Context | undefined, meter: InvocationMeter): Promise<void> {
  if (!(def.usageStore || def.jobMeter) || !(meter.memoryMB > 0)) return;
  const ms = performance.now() - meter.startedAt;
  const jobIds = bodies.map((b) => {
    try {
      return def.jobIdOf(typeof b === "string" ? JSON.parse(b) : b);
    } catch {
      return undefined;
    }
  });
  const known = jobIds.filter((j): j is string => typeof j === "string");
  if (!known.length) return;
  if (!def.usageStore) return meterOnJobs(def.name, def.jobMeter, meter, known, asLogger(logger));
  try {
    const store = await def.usageStore();
    if (!store) return;
    const ledger = createLambdaUsageLedger(store);
    const requestId = context?.awsRequestId || `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    await Promise.all(known.map((jobId, i) => ledger.record(jobId, def.name, `${requestId}-${i}`, { ms: ms / jobIds.length, memoryMB: meter.memoryMB })));
    logger.debug("invocation measured", { ms: Math.round(ms), memoryMB: meter.memoryMB, gbSeconds: gbSecondsOf({ ms, memoryMB: meter.memoryMB }), jobIds: known });
  } catch (err) {
    logger.warn("could not record the invocation's Lambda usage", { jobIds: known, ...errorFields(err) });
  }
}

/** A step the rule invokes directly (asynchronous invocation). */
export function directStep<E>(def: StepDefinition<E>) {
  const logger = makeLogger(def.name);
  return middy(async (event: unknown, context: Context): Promise<void> => {
    const meter = startMeter(context);
    try {
      await processEvent(def, event, logger, 1, false, meter);
    } finally {
      await recordUsage(def, logger, [event], context, meter);
    }
  });
}

// ---- HTTP (Function URLs) -------------------------------------------------------------------

export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  /** The raw body as received: signatures are computed over these bytes. */
  rawBody: string;
}
export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON, unless `text` is given. */
  body?: unknown;
  /** A body sent as is (e.g. an HLS playlist); set its content-type in `headers`. */
  text?: string;
  /** The jobs this request worked on, for the Lambda meter (HttpEndpointOptions.meter); never sent. */
  jobIds?: string[];
}

export class HttpError extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string, readonly details?: unknown) {
    super(message);
    this.name = "HttpError";
  }
}

/** Base64 as a Function URL sends it: the standard alphabet, padded, whitespace tolerated. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The request as the handlers see it. Only strings are kept (a Function URL sends nothing
 * else; anything else is not the client's to send). Throws HttpError 400 when a base64-flagged
 * body is not base64: Buffer.from would silently drop the bad characters and hand the handler
 * other bytes than were sent.
 */
export function toHttpRequest(e: APIGatewayProxyEventV2): HttpRequest {
  const req = requestWithoutBody(e);
  const body = typeof e.body === "string" ? e.body : "";
  if (!e.isBase64Encoded) return { ...req, rawBody: body };
  const compact = body.replace(/\s+/g, "");
  if (!BASE64.test(compact)) throw new HttpError(400, "InvalidBody", "the body is flagged base64 but is not valid base64");
  return { ...req, rawBody: Buffer.from(compact, "base64").toString("utf8") };
}

function requestWithoutBody(e: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.headers ?? {})) if (typeof v === "string") headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.queryStringParameters ?? {})) if (typeof v === "string") query[k] = v;
  const method = e.requestContext?.http?.method;
  return {
    method: typeof method === "string" ? method : "GET",
    path: typeof e.rawPath === "string" ? e.rawPath : "/",
    headers,
    query,
    rawBody: "",
  };
}

/**
 * A percent-encoded path segment, decoded. Malformed encoding (`%E0%A4%A`, a lone `%`) is the
 * client's error: HttpError 400, never the URIError decodeURIComponent throws.
 */
export function decodePathSegment(segment: string, what = "path segment"): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "InvalidPath", `the ${what} is not valid percent-encoding`);
  }
}

/** The body parsed as JSON; HttpError 400 when it is missing or not JSON. */
export function parseJsonBody(req: HttpRequest): unknown {
  if (req.rawBody.trim() === "") throw new HttpError(400, "InvalidBody", "a JSON body is required");
  try {
    return JSON.parse(req.rawBody) as unknown;
  } catch {
    throw new HttpError(400, "InvalidBody", "the body is not valid JSON");
  }
}

/** At most `max` characters of client input, for echoing in an error message. */
export const clip = (s: string, max = 200): string => (s.length > max ? `${s.slice(0, max)}…` : s);

export interface HttpEndpointOptions {
  /**
   * Headers added to every response, errors and the catch-all 500 included (e.g. CORS, so a
   * browser can read why a request failed). A response's own headers win.
   */
  headers?: (req: HttpRequest) => Record<string, string> | Promise<Record<string, string>>;
  /** Puts each invocation on the record of the jobs its response names (`jobIds`). */
  meter?: JobMeter;
}

/** A Function URL handler: maps HttpError to its status with a JSON error body; logs the rest. */
export function httpEndpoint(name: string, run: (req: HttpRequest, logger: Logger, invocation: () => { id: string; ms: number; memoryMB: number }) => Promise<HttpResponse>, opts: HttpEndpointOptions = {}) {
  const logger = makeLogger(name);
  const json = "application/json";
  return middy(async (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const meter = startMeter(context);
    // Headers (CORS) come from the request line and headers, so even a request whose body
    // cannot be decoded gets an answer the browser can read.
    let req = requestWithoutBody(event ?? ({} as APIGatewayProxyEventV2));
    // A request about a job (/jobs/{jobId}…) logs every line with its jobId.
    const pathJobId = JOB_ID_IN_TEXT.exec(req.path ?? "")?.[1]?.toUpperCase();
    const log = asLogger(pathJobId ? logger.createChild({ persistentKeys: { jobId: pathJobId } }) : logger);
    let common: Record<string, string> = {};
    try {
      if (opts.headers) common = await opts.headers(req);
    } catch (err) {
      log.error("could not compute the response headers", { path: clip(req.path), ...errorFields(err) });
    }
    try {
      req = toHttpRequest(event ?? ({} as APIGatewayProxyEventV2));
      const res = await run(req, log, () => ({ id: meter.requestId, ms: performance.now() - meter.startedAt, memoryMB: meter.memoryMB }));
      // Measured up to the answer: what is left is serialising it.
      if (res.jobIds?.length) await meterOnJobs(name, opts.meter, meter, res.jobIds, log);
      return {
        statusCode: res.status,
        headers: { "content-type": json, ...common, ...res.headers },
        body: res.text ?? (res.body === undefined ? "" : JSON.stringify(res.body)),
      };
    } catch (thrown) {
      // The one catch-all mapping of decoding errors: a URIError only comes from decoding or
      // encoding a URI component, and the only URIs a handler decodes are the client's.
      const err = thrown instanceof URIError ? new HttpError(400, "InvalidRequest", "the request contains malformed percent-encoding") : thrown;
      if (err instanceof HttpError) {
        log.warn("request rejected", { status: err.status, errorCode: err.errorCode, message: err.message, path: clip(req.path) });
        return {
          statusCode: err.status,
          headers: { "content-type": json, ...common },
          body: JSON.stringify({ error: err.errorCode, message: err.message, ...(err.details ? { details: err.details } : {}) }),
        };
      }
      log.error("request failed", { path: clip(req.path), ...errorFields(err) });
      return { statusCode: 500, headers: { "content-type": json, ...common }, body: JSON.stringify({ error: "Internal", message: "internal error" }) };
    }
  });
}

/** The jobId of a pipeline event (detail.metadata.jobId), for log context and the step's `fail`. */
export const pipelineJobId = eventJobId;

/** The jobId of an S3 upload event, only for the one key a job's photo may have (uploads/{jobId}/source). */
export const uploadJobId = (raw: unknown): string | undefined => {
  const key = (raw as { detail?: { object?: { key?: unknown } } } | null)?.detail?.object?.key;
  return typeof key === "string" ? uploadKeyJobId(key) : undefined;
};
