import { ChangeMessageVisibilityCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { PermanentError, TransientError } from "@reelbridge/core";
import { queueStep } from "../../src/lib/handlers";
import type { StepDefinition } from "../../src/lib/handlers";
import { awsVisibilityChanger } from "../../src/lib/aws";
import { createSqsVisibilityChanger, keepVisibility, queueUrlFromArn, redeliveryDelaySeconds } from "../../src/lib/visibility";

process.env.LOG_LEVEL = "SILENT";

/** aws-sdk-client-mock's typings lag SDK 3.1162's @smithy/types (see s3-blob-store.test.ts): a narrow view of the stub. */
interface SqsStub {
  on(command: unknown): { resolves(output: Record<string, unknown>): unknown; rejects(err: Error): unknown };
  commandCalls(command: unknown): Array<{ args: [{ input: Record<string, unknown> }] }>;
  reset(): void;
}
const sqs = mockClient(SQSClient as never) as unknown as SqsStub;
afterEach(() => {
  sqs.reset();
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
});
const client = new SQSClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });

const ARN = "arn:aws:sqs:eu-west-1:111122223333:reelbridge-prod-ltx-step";
const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/111122223333/reelbridge-prod-ltx-step";

const record = (id: string, body: unknown, receiveCount = 1): SQSRecord => ({
  messageId: id,
  receiptHandle: `receipt-${id}`,
  body: JSON.stringify(body),
  attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: "0", SenderId: "x", ApproximateFirstReceiveTimestamp: "0" },
  messageAttributes: {},
  md5OfBody: "",
  eventSource: "aws:sqs",
  eventSourceARN: ARN,
  awsRegion: "eu-west-1",
});
const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const context = () => ({ functionName: "ltx-step", getRemainingTimeInMillis: () => 60_000 }) as unknown as Context;

/** A step whose run throws what the event's `throw` names. */
const step = (errors: Record<string, Error>): StepDefinition<{ id: string }> => ({
  name: "test-step",
  parse: (raw) => raw as { id: string },
  jobIdOf: () => "01JD7X8Q2RZ4V6N3K5M9P1T0AB",
  run: async (e) => {
    const err = errors[e.id];
    if (err) throw err;
  },
});

const visibilityCalls = () => sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);

describe("queueStep redelivery", () => {
  it("asks SQS to redeliver a record after its TransientError's retryAfterSeconds, and reports it failed", async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const handler = queueStep(step({ a: new TransientError("still generating", { retryAfterSeconds: 5 }) }), {
      maxReceiveCount: 5,
      changeVisibility: createSqsVisibilityChanger(client),
    });
    const res = (await handler(batch(record("a", { id: "a" })), context())) as SQSBatchResponse;
    // A batch whose only record failed is reported, not thrown.
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: "a" }] });
    expect(visibilityCalls()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: "receipt-a", VisibilityTimeout: 5 }]);
  });

  it("backs off exponentially by receive count when the error gives no delay; only failed records are touched", async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const handler = queueStep(step({ bad: new Error("socket hang up") }), { maxReceiveCount: 5, changeVisibility: createSqsVisibilityChanger(client), random: () => 1 });
    const res = (await handler(batch(record("ok", { id: "ok" }), record("bad", { id: "bad" }, 3)), context())) as SQSBatchResponse;
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: "bad" }] });
    expect(visibilityCalls()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: "receipt-bad", VisibilityTimeout: 40 }]);
  });

  it("still reports the failure when ChangeMessageVisibility fails", async () => {
    sqs.on(ChangeMessageVisibilityCommand).rejects(Object.assign(new Error("Access denied"), { name: "AccessDenied" }));
    const handler = queueStep(step({ a: new TransientError("throttled", { retryAfterSeconds: 30 }) }), { maxReceiveCount: 5, changeVisibility: createSqsVisibilityChanger(client) });
    expect(await handler(batch(record("a", { id: "a" })), context())).toEqual({ batchItemFailures: [{ itemIdentifier: "a" }] });
    expect(visibilityCalls()).toHaveLength(1);
  });

  it("uses SQS with the changer the deployed handlers get, and not at all for permanent failures or successes", async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const failed = new PermanentError("InvalidImage", "not an image");
    const handler = queueStep(step({ t: new TransientError("busy", { retryAfterSeconds: 12 }), p: failed }), { maxReceiveCount: 5, changeVisibility: awsVisibilityChanger });
    const res = (await handler(batch(record("t", { id: "t" }), record("p", { id: "p" }), record("s", { id: "s" })), context())) as SQSBatchResponse;
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: "t" }] });
    expect(visibilityCalls()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: "receipt-t", VisibilityTimeout: 12 }]);
  });

  it("lets the local runtime keep the visibility as it is, even where AWS_LAMBDA_FUNCTION_NAME is set", async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = "reelbridge-local";
    const handler = queueStep(step({ a: new TransientError("busy", { retryAfterSeconds: 12 }) }), { maxReceiveCount: 5, changeVisibility: keepVisibility });
    expect(await handler(batch(record("a", { id: "a" })), context())).toEqual({ batchItemFailures: [{ itemIdentifier: "a" }] });
    expect(visibilityCalls()).toEqual([]);
  });

  it("changes nothing without a changer (tests, scripts), whatever the environment says", async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = "reelbridge-prod-ltx-step";
    const handler = queueStep(step({ a: new Error("boom") }), { maxReceiveCount: 5 });
    expect(await handler(batch(record("a", { id: "a" })), context())).toEqual({ batchItemFailures: [{ itemIdentifier: "a" }] });
    expect(visibilityCalls()).toEqual([]);
  });
});

describe("redeliveryDelaySeconds", () => {
  it("honours a Retry-After hint up to SQS's 12 h limit", () => {
    expect(redeliveryDelaySeconds(new TransientError("x", { retryAfterSeconds: 4.2 }), 1)).toBe(5);
    expect(redeliveryDelaySeconds(new TransientError("x", { retryAfterSeconds: 0 }), 4)).toBe(0);
    expect(redeliveryDelaySeconds(new TransientError("x", { retryAfterSeconds: 86_400 }), 1)).toBe(43_200);
  });

  it("grows 10·2^(n-1) s with jitter between half and all of it, capped at 15 min", () => {
    const max = (n: number) => redeliveryDelaySeconds(new Error("x"), n, () => 1);
    const min = (n: number) => redeliveryDelaySeconds(new Error("x"), n, () => 0);
    expect([1, 2, 3, 4, 5].map(max)).toEqual([10, 20, 40, 80, 160]);
    expect([1, 2, 3].map(min)).toEqual([5, 10, 20]);
    expect(max(7)).toBe(640);
    expect(max(8)).toBe(900);
    expect(max(60)).toBe(900);
    expect(min(0)).toBe(5);
  });
});

describe("queueUrlFromArn", () => {
  it("maps queue ARNs to their URL, per partition", () => {
    expect(queueUrlFromArn(ARN)).toBe(QUEUE_URL);
    expect(queueUrlFromArn("arn:aws-cn:sqs:cn-north-1:111122223333:q.fifo")).toBe("https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q.fifo");
    expect(queueUrlFromArn("arn:aws:sqs:local:000000000000:ltx-step")).toBe("https://sqs.local.amazonaws.com/000000000000/ltx-step");
    expect(queueUrlFromArn("arn:aws:sns:eu-west-1:111122223333:topic")).toBeUndefined();
    expect(queueUrlFromArn("not an arn")).toBeUndefined();
  });
});
