import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { keepVisibility, withVisibilityChanger } from "@reelbridge/functions/lib/visibility";
import type { EventBridgeEnvelope, InvokeResult } from "../eventbridge/types";

/**
 * The local runtime invokes the real Lambda handlers with the event shapes AWS gives them, so
 * the same code path runs offline: an SQS batch for queued subscriptions, the EventBridge event
 * for direct ones, and a Function URL (API Gateway v2) event for HTTP endpoints.
 */

export type AnyHandler = (event: never, context: Context) => Promise<unknown>;

export function lambdaContext(functionName: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "1024",
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
 * Queue kind: the rule put the events on an SQS queue; the function consumes a batch. The local
 * bus backs failed records off itself, so the handler is told to leave their visibility alone
 * (in AWS it would call ChangeMessageVisibility).
 */
export function sqsInvoker(name: string, handler: AnyHandler, timeoutSeconds: number) {
  return async (events: EventBridgeEnvelope[], info: { attempts: number[] }): Promise<InvokeResult> => {
    const sqsEvent: SQSEvent = {
      Records: events.map((e, i) => ({
        messageId: e.id,
        receiptHandle: `local-${e.id}-${info.attempts[i] ?? 1}`,
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
    const context = withVisibilityChanger(lambdaContext(name, timeoutSeconds), keepVisibility);
    const res = (await handler(sqsEvent as never, context)) as SQSBatchResponse | undefined;
    const failed = res?.batchItemFailures?.map((f) => f.itemIdentifier) ?? [];
    return { failedEventIds: failed };
  };
}

/** Direct kind: EventBridge invokes the function asynchronously with the event itself. */
export function directInvoker(name: string, handler: AnyHandler, timeoutSeconds: number) {
  return async (events: EventBridgeEnvelope[]): Promise<InvokeResult> => {
    for (const e of events) await handler(e as never, lambdaContext(name, timeoutSeconds));
  };
}

/** Reads a Node request into a Function URL event (payload format 2.0). */
export async function toFunctionUrlEvent(req: IncomingMessage, pathOverride?: string): Promise<APIGatewayProxyEventV2> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
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
