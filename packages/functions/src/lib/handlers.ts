import middy from "@middy/core";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { FailureReason } from "@reelbridge/events";
import { InvalidEventError, errorFields, permanentReason } from "@reelbridge/core";
import type { Logger } from "@reelbridge/core";
import { ZodError } from "zod";

/**
 * The shared shape of every handler (STYLE.md, "Handlers are a few lines"): middy, structured
 * JSON logs with the jobId on every line, contract parsing at the boundary, and the one
 * mapping from errors to platform behaviour:
 *   - invalid event or permanent error → the step's `fail` emits its *Failed event; not retried
 *   - transient error → thrown, so the platform retries (SQS redelivery / async retries)
 *   - transient error on the queue's last receive → `fail` with RetriesExhausted, then the
 *     message still goes to the DLQ, so the job is visibly failed and nothing is lost.
 */

export interface StepContext {
  logger: Logger;
  /** 1-based delivery attempt (SQS ApproximateReceiveCount); 1 for direct invocations. */
  attempt: number;
  /** True when a failure now sends the event to the DLQ. */
  lastAttempt: boolean;
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
}

export const makeLogger = (service: string): PowertoolsLogger =>
  new PowertoolsLogger({ serviceName: `reelbridge-${service}`, logLevel: (process.env.LOG_LEVEL as "INFO") ?? "INFO" });

const asLogger = (l: PowertoolsLogger): Logger => ({
  debug: (m, e) => l.debug(m, e ?? {}),
  info: (m, e) => l.info(m, e ?? {}),
  warn: (m, e) => l.warn(m, e ?? {}),
  error: (m, e) => l.error(m, e ?? {}),
});

const describeZod = (err: ZodError) =>
  err.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");

/** Processes one EventBridge event through a step definition. Throws only transient errors. */
export async function processEvent<E>(def: StepDefinition<E>, raw: unknown, base: PowertoolsLogger, attempt: number, lastAttempt: boolean): Promise<void> {
  const jobId = def.jobIdOf(raw);
  const log = base.createChild({ persistentKeys: { jobId: jobId ?? "unknown", attempt } });
  const ctx: StepContext = { logger: asLogger(log), attempt, lastAttempt };
  const eventId = (raw as { id?: string } | null)?.id;
  let event: E;
  try {
    event = def.parse(raw);
  } catch (err) {
    const invalid = err instanceof ZodError ? new InvalidEventError(`event does not match its contract: ${describeZod(err)}`, { cause: err }) : err;
    const reason = permanentReason(invalid);
    if (!reason) throw invalid;
    log.error("rejected invalid event", { eventId, ...errorFields(invalid) });
    if (def.fail && jobId) await def.fail(raw, reason, ctx);
    return;
  }
  try {
    log.info("processing", { eventId, detailType: (raw as Record<string, unknown>)["detail-type"] });
    await def.run(event, ctx);
  } catch (err) {
    const reason = permanentReason(err);
    if (reason) {
      log.error("permanent failure", { eventId, ...errorFields(err) });
      if (def.fail) await def.fail(raw, reason, ctx);
      return;
    }
    log.warn("transient failure, will be retried", { eventId, lastAttempt, ...errorFields(err) });
    if (lastAttempt && def.fail) {
      await def.fail(raw, { code: "RetriesExhausted", message: `gave up after ${attempt} attempts: ${(err as Error).message}`.slice(0, 2000), retryable: false }, ctx);
    }
    throw err;
  }
}

/** A step consumed from an SQS queue (the rule targets the queue). Reports batch item failures. */
export function queueStep<E>(def: StepDefinition<E>, opts: { maxReceiveCount: number }) {
  const logger = makeLogger(def.name);
  const processor = new BatchProcessor(EventType.SQS);
  const record = async (r: SQSRecord) => {
    const attempt = Number(r.attributes.ApproximateReceiveCount ?? "1");
    let raw: unknown;
    try {
      raw = JSON.parse(r.body);
    } catch {
      logger.error("queue message is not JSON; dropping", { messageId: r.messageId });
      return;
    }
    await processEvent(def, raw, logger, attempt, attempt >= opts.maxReceiveCount);
  };
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, record, processor, { context }),
  );
}

/** A step the rule invokes directly (asynchronous invocation). */
export function directStep<E>(def: StepDefinition<E>) {
  const logger = makeLogger(def.name);
  return middy(async (event: unknown): Promise<void> => processEvent(def, event, logger, 1, false));
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
  body?: unknown;
}

export class HttpError extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string, readonly details?: unknown) {
    super(message);
    this.name = "HttpError";
  }
}

export function toHttpRequest(e: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  const body = e.body ?? "";
  return {
    method: e.requestContext?.http?.method ?? "GET",
    path: e.rawPath ?? "/",
    headers,
    query,
    rawBody: e.isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body,
  };
}

/** A Function URL handler: maps HttpError to its status with a JSON error body; logs the rest. */
export function httpEndpoint(name: string, run: (req: HttpRequest, logger: Logger) => Promise<HttpResponse>) {
  const logger = makeLogger(name);
  return middy(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const req = toHttpRequest(event);
    const log = asLogger(logger);
    try {
      const res = await run(req, log);
      return {
        statusCode: res.status,
        headers: { "content-type": "application/json", ...res.headers },
        body: res.body === undefined ? "" : JSON.stringify(res.body),
      };
    } catch (err) {
      if (err instanceof HttpError) {
        log.warn("request rejected", { status: err.status, errorCode: err.errorCode, message: err.message, path: req.path });
        return {
          statusCode: err.status,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ error: err.errorCode, message: err.message, ...(err.details ? { details: err.details } : {}) }),
        };
      }
      log.error("request failed", { path: req.path, ...errorFields(err) });
      return { statusCode: 500, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: "Internal", message: "internal error" }) };
    }
  });
}

/** The jobId of a pipeline event (detail.metadata.jobId), if it has one. */
export const pipelineJobId = (raw: unknown): string | undefined => {
  const id = (raw as { detail?: { metadata?: { jobId?: unknown } } } | null)?.detail?.metadata?.jobId;
  return typeof id === "string" ? id : undefined;
};

/** The jobId of an S3 upload event (uploads/{jobId}/source). */
export const uploadJobId = (raw: unknown): string | undefined => {
  const key = (raw as { detail?: { object?: { key?: unknown } } } | null)?.detail?.object?.key;
  const m = typeof key === "string" ? /^uploads\/([0-9A-HJKMNP-TV-Z]{26})\//.exec(key) : null;
  return m?.[1];
};
