import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { EventBridgeEnvelope, InvokeResult } from "../eventbridge/types";

/**
 * The local runtime invokes the real Lambda handlers with the event shapes AWS gives them, so
 * the same code path runs offline: an SQS batch for queued subscriptions, the EventBridge event
 * for direct ones, and a Function URL (API Gateway v2) event for HTTP endpoints.
 */

export type AnyHandler = (event: never, context: Context) => Promise<unknown>;

/** One measured invocation of a function (the local runtime's GB-s figures, bench/lambda-gb-seconds.ts). */
export interface InvocationRecord {
  function: string;
  /** The topology's memoryMB for the function (what Lambda would bill). */
  memoryMB: number;
  /** Wall time of the handler call, ms. */
  ms: number;
  gbSeconds: number;
  /** The jobs of the events it was given (an S3 upload's key, a pipeline event's metadata). */
  jobIds: string[];
  kind: "queue" | "direct" | "http" | "schedule";
  /** Batch items the handler reported failed (queue kind; a scheduled re-check is one). */
  failed?: number;
  at: string;
}

/** How the runtime's invokers configure and report each function (memory from the topology). */
export interface InvokerOptions {
  memoryMB: number;
  onInvocation?: (r: InvocationRecord) => void;
  /** The jobId of an event, for the invocation record. */
  jobIdOf?: (event: unknown) => string | undefined;
}

/**
 * Times `run` and reports it as an invocation: duration × the topology's memoryMB (Lambda bills
 * the configured memory for the wall time of the invocation, rounded up to 1 ms).
 */
export async function measured<T>(name: string, kind: InvocationRecord["kind"], opts: InvokerOptions | undefined, events: unknown[], run: () => Promise<T>, failedOf?: (r: T) => number): Promise<T> {
  const t0 = performance.now();
  let result: T | undefined;
  try {
    result = await run();
    return result;
  } finally {
    if (opts?.onInvocation) {
      const ms = performance.now() - t0;
      const jobIds = [...new Set(events.map((e) => opts.jobIdOf?.(e)).filter((j): j is string => typeof j === "string"))];
      opts.onInvocation({
        function: name,
        memoryMB: opts.memoryMB,
        ms,
        gbSeconds: (ms / 1000) * (opts.memoryMB / 1024),
        jobIds,
        kind,
        ...(result !== undefined && failedOf ? { failed: failedOf(result) } : {}),
        at: new Date().toISOString(),
      });
    }
  }
}

export function lambdaContext(functionName: string, timeoutSeconds: number, memoryMB = 1024): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    // The topology's memoryMB, as Lambda sets it: the handlers measure GB-s with it.
    memoryLimitInMB: String(memoryMB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * What the queued handlers ask of a record's visibility, locally: the handler calls `change`
 * (ChangeMessageVisibility in AWS) and, for a scheduled re-check, the invoker hands the delay to
 * the local bus, which redelivers the record after it (times `scale`: tests and benchmarks
 * shrink time).
 */
export interface LocalVisibility {
  change: (c: { queueUrl: string; receiptHandle: string; visibilityTimeoutSeconds: number; reason?: "check" | "retry" }) => Promise<void>;
  /** The delay asked for a receipt handle, ms (already scaled), once. */
  take(receiptHandle: string): number | undefined;
}

export function createLocalVisibility(scale = 1): LocalVisibility {
  const asked = new Map<string, number>();
  return {
    change: async ({ receiptHandle, visibilityTimeoutSeconds, reason }) => {
      // A failure's redelivery keeps the local bus's own short backoff (tests shrink it).
      if (reason === "check") asked.set(receiptHandle, Math.max(0, visibilityTimeoutSeconds * 1000 * scale));
    },
    take(receiptHandle) {
      const ms = asked.get(receiptHandle);
      asked.delete(receiptHandle);
      return ms;
    },
  };
}

const receiptHandleOf = (eventId: string, attempt: number) => `local-${eventId}-${attempt}`;

/**
 * Queue kind: the rule put the events on an SQS queue; the function consumes a batch. A failed
 * record comes back after the delay its handler set on its visibility (a scheduled re-check, a
 * Retry-After) when it set one, else after the local bus's own backoff.
 */
export function sqsInvoker(name: string, handler: AnyHandler, timeoutSeconds: number, opts?: InvokerOptions & { visibility?: LocalVisibility }) {
  return async (events: EventBridgeEnvelope[], info: { attempts: number[] }): Promise<InvokeResult> => {
    const sqsEvent: SQSEvent = {
      Records: events.map((e, i) => ({
        messageId: e.id,
        receiptHandle: receiptHandleOf(e.id, info.attempts[i] ?? 1),
        body: JSON.stringify(e),
        attributes: {
          ApproximateReceiveCount: String(info.attempts[i] ?? 1),
          SentTimestamp: String(Date.parse(e.time) || Date.now()),
          SenderId: "events.amazonaws.com",
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:local:000000000000:${name}`,
        awsRegion: "local",
      })),
    };
    const context = lambdaContext(name, timeoutSeconds, opts?.memoryMB);
    const res = await measured(name, "queue", opts, events, async () => (await handler(sqsEvent as never, context)) as SQSBatchResponse | undefined, (r) => r?.batchItemFailures?.length ?? 0);
    const failed = res?.batchItemFailures?.map((f) => f.itemIdentifier) ?? [];
    const retryAfterMs: Record<string, number> = {};
    events.forEach((e, i) => {
      const ms = opts?.visibility?.take(receiptHandleOf(e.id, info.attempts[i] ?? 1));
      if (ms !== undefined && failed.includes(e.id)) retryAfterMs[e.id] = ms;
    });
    return { failedEventIds: failed, retryAfterMs };
  };
}

/** Direct kind: EventBridge invokes the function asynchronously with the event itself. */
export function directInvoker(name: string, handler: AnyHandler, timeoutSeconds: number, opts?: InvokerOptions) {
  return async (events: EventBridgeEnvelope[]): Promise<InvokeResult> => {
    for (const e of events) await measured(name, "direct", opts, [e], () => handler(e as never, lambdaContext(name, timeoutSeconds, opts?.memoryMB)));
  };
}

/**
 * What a Lambda Function URL accepts: a synchronous invocation's request payload is at most
 * 6 MB (6,291,456 bytes; Lambda quotas page, "Invocation payload (request and response)").
 * AWS counts the whole serialised event, so in AWS the body's real limit is a little lower (and
 * a binary body, which Function URLs base64-encode, counts 4/3); capping the body at the quota
 * is the local runtime's close enough.
 */
export const FUNCTION_URL_MAX_REQUEST_BYTES = 6 * 1024 * 1024;

/**
 * Lambda's answer to an invocation whose request is over the quota: HTTP 413 with a JSON
 * `Message`. Source: the Lambda API reference, Invoke → Errors ("RequestTooLargeException …
 * HTTP Status Code: 413"), and the message text Lambda returns for it ("Request must be smaller
 * than 6291456 bytes for the InvokeFunction operation", as reported in Zac Charles, "Deep Dive:
 * Lambda's Request Payload Size Limit", 2022). Not checked against a live Function URL here.
 */
export function functionUrlPayloadTooLarge(maxBytes = FUNCTION_URL_MAX_REQUEST_BYTES): { status: 413; headers: Record<string, string>; body: string } {
  return {
    status: 413,
    headers: { "content-type": "application/json", "x-amzn-errortype": "RequestTooLargeException" },
    body: JSON.stringify({ Message: `Request must be smaller than ${maxBytes} bytes for the InvokeFunction operation` }),
  };
}

/** A request body over the Function URL quota: the function is not invoked. */
export class FunctionUrlPayloadTooLargeError extends Error {
  readonly code = "RequestTooLargeException";
  constructor(readonly maxBytes: number, readonly receivedBytes: number) {
    super(`request body over ${maxBytes} bytes (${receivedBytes} received before the cap): answered 413, function not invoked`);
    this.name = "FunctionUrlPayloadTooLargeError";
  }
}

/**
 * Reads at most `maxBytes` of the body. Over the cap (a Content-Length that says so, or the
 * bytes themselves when chunked) it stops reading, answers 413 itself and closes the connection,
 * then rejects with FunctionUrlPayloadTooLargeError: the handler never runs, and no more than
 * the cap is ever buffered. The answer is written on the socket because only the request
 * reaches this function; whoever catches the error finds the connection already answered and
 * closed (a write to it is a no-op).
 */
async function readCappedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    refuseTooLarge(req, maxBytes);
    throw new FunctionUrlPayloadTooLargeError(maxBytes, 0);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (c: Buffer) => {
      received += c.length;
      if (received > maxBytes) {
        cleanup();
        chunks.length = 0;
        refuseTooLarge(req, maxBytes);
        reject(new FunctionUrlPayloadTooLargeError(maxBytes, received));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** How long a refused connection stays half-open so the client can read its 413. */
const REFUSED_LINGER_MS = 2000;

function refuseTooLarge(req: IncomingMessage, maxBytes: number): void {
  // Stop reading first: a paused request stops its socket once the request's small buffer is
  // full, so the rest of the body stays with the client (and the kernel's buffers).
  req.pause();
  const socket = req.socket;
  if (socket.destroyed || !socket.writable) return;
  const answer = functionUrlPayloadTooLarge(maxBytes);
  const headers = { ...answer.headers, "content-length": String(Buffer.byteLength(answer.body)), connection: "close" };
  const head = [`HTTP/1.1 ${answer.status} Request Entity Too Large`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  // Answer and close our side only. Destroying the socket at once would make the kernel reset
  // the connection when the client's next bytes arrive, and a reset discards the answer the
  // client has not read yet; so the connection lingers half-open (still not read from) until
  // the client hangs up or REFUSED_LINGER_MS pass.
  socket.end(`${head.join("\r\n")}\r\n\r\n${answer.body}`);
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}

export interface FunctionUrlEventOptions {
  /** Request body cap in bytes; default (and in AWS, fixed at) FUNCTION_URL_MAX_REQUEST_BYTES. */
  maxBodyBytes?: number;
}

/**
 * Reads a Node request into a Function URL event (payload format 2.0). A body over the cap is
 * answered 413 as a Function URL answers it, and rejects (see readCappedBody).
 */
export async function toFunctionUrlEvent(req: IncomingMessage, pathOverride?: string, opts: FunctionUrlEventOptions = {}): Promise<APIGatewayProxyEventV2> {
  const body = await readCappedBody(req, opts.maxBodyBytes ?? FUNCTION_URL_MAX_REQUEST_BYTES);
  const url = new URL(req.url ?? "/", "http://local");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const path = pathOverride ?? url.pathname;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: { method: req.method ?? "GET", path, protocol: "HTTP/1.1", sourceIp: req.socket.remoteAddress ?? "127.0.0.1", userAgent: headers["user-agent"] ?? "" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: body.length ? body.toString("utf8") : undefined,
    isBase64Encoded: false,
  };
}

export function writeFunctionUrlResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | undefined): void {
  if (typeof result === "string" || result === undefined) {
    res.writeHead(200, { "content-type": "application/json" }).end(result ?? "");
    return;
  }
  const headers: Record<string, string | number | boolean> = { ...(result.headers ?? {}) };
  res.writeHead(result.statusCode ?? 200, headers as Record<string, string>);
  res.end(result.isBase64Encoded && result.body ? Buffer.from(result.body, "base64") : (result.body ?? ""));
}
