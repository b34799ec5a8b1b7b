import type { Context } from "aws-lambda";
import { createHmac } from "node:crypto";
import { sqsEvent } from "../support/sqs";
import { describe, expect, it } from "vitest";
import { createMemoryPublisher } from "@reelbridge/core";
import type { WebhookRequest, WebhookResponse } from "@reelbridge/core/notify/http";
import { notifiedTypes } from "@reelbridge/core/notify/webhook";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import startedSample from "@reelbridge/events/samples/v1/RenderStarted.json";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { seedLedger } from "@reelbridge/testing/ledger";
import { INVOCATION_BUDGET_MS, MAX_RECEIVE_COUNT, createHandler } from "../../src/notifier";
import type { Deps } from "../../src/notifier";
import type { VisibilityChange } from "../../src/lib/visibility";
import { subscriptions } from "../../src/topology";

process.env.LOG_LEVEL = "SILENT";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async function setup(answers: Array<WebhookResponse | Error>) {
  const deferred: VisibilityChange[] = [];
  const sent: WebhookRequest[] = [];
  const publisher = createMemoryPublisher();
  // The render webhook recorded this RenderCompleted as the job's outcome (jobs/ledger.ts).
  const state = createMemoryStepStateStore();
  await seedLedger(state, completedSample);
  const deps: Deps = {
    sender: {
      async send(req) {
        sent.push(req);
        const a = answers.shift() ?? { status: 200, bodySnippet: "" };
        if (a instanceof Error) throw a;
        return a;
      },
    },
    secret: SECRET,
    state,
    publisher,
    stageEndpoints: [],
    policy: { requireHttps: true },
    links: async () => ({}),
    retry: { attemptsPerInvocation: 1 },
  };
  const changeVisibility = async (c: VisibilityChange) => void deferred.push(c);
  return { sent, publisher, deferred, handler: createHandler(async () => deps, { changeVisibility }) };
}

const sqs = (body: unknown, receiveCount = 1) => sqsEvent(body, { queue: "notifier", receiveCount });
const context = { functionName: "notifier", getRemainingTimeInMillis: () => 20_000 } as unknown as Context;

describe("notifier handler", () => {
  it("follows the topology: queue consumer, budget under the function timeout", () => {
    const sub = subscriptions({ mediaBucket: "b" }).find((s) => s.name === "notifier")!;
    expect(sub.delivery).toMatchObject({ kind: "queue", maxReceiveCount: MAX_RECEIVE_COUNT });
    expect(INVOCATION_BUDGET_MS).toBeLessThan(sub.timeoutSeconds * 1000);
    // Every event type the rule delivers has a webhook mapping, and nothing else.
    expect([...(sub.pattern["detail-type"] as string[])].sort()).toEqual([...notifiedTypes].sort());
  });

  it("delivers a signed webhook from an SQS record and acknowledges the message", async () => {
    const { sent, publisher, handler } = await setup([{ status: 204, bodySnippet: "" }]);
    const res = await handler(sqs(completedSample), context);
    expect(res).toEqual({ batchItemFailures: [] });
    expect(sent[0]!.url).toBe("https://hooks.example.com/reelbridge");
    // Standard Webhooks, computed independently: HMAC-SHA256 over "{id}.{timestamp}.{body}".
    const h = sent[0]!.headers;
    const mac = createHmac("sha256", Buffer.from(SECRET.slice("whsec_".length), "base64")).update(`${h["webhook-id"]}.${h["webhook-timestamp"]}.${sent[0]!.body}`).digest("base64");
    expect(h["webhook-signature"]).toBe(`v1,${mac}`);
    expect(JSON.parse(sent[0]!.body)).toMatchObject({ type: "video.completed" });
    expect(publisher.published.map((e) => e.type)).toEqual(["NotificationDelivered"]);
  });

  it("leaves an undelivered webhook on the queue, and on the last receive emits NotificationFailed before the DLQ", async () => {
    const { publisher, handler } = await setup([{ status: 500, bodySnippet: "" }, { status: 500, bodySnippet: "" }]);
    // The failed record is reported (a batch of one too), so SQS redelivers it.
    expect(await handler(sqs(completedSample, 1), context)).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
    expect(publisher.published).toHaveLength(0);
    expect(await handler(sqs(completedSample, MAX_RECEIVE_COUNT), context)).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
    expect(publisher.published).toMatchObject([{ type: "NotificationFailed", data: { attempts: 2, reason: { code: "RetriesExhausted" } } }]);
  });

  it("asks the queue to redeliver after the receiver's Retry-After, not the queue's visibility timeout", async () => {
    const { deferred, handler } = await setup([{ status: 503, retryAfterSeconds: 120, bodySnippet: "" }]);
    expect(await handler(sqs(completedSample, 1), context)).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
    // A failed delivery's delay is a retry (not a step's scheduled re-check): the local runtime
    // keeps its own backoff for it, SQS waits the receiver's 120 s.
    expect(deferred).toEqual([{ queueUrl: "https://sqs.eu-west-1.amazonaws.com/111122223333/notifier", receiptHandle: "r-1", visibilityTimeoutSeconds: 120, reason: "retry" }]);
  });

  it("drops an event type it does not notify, and an invalid event, without sending", async () => {
    const { sent, publisher, handler } = await setup([]);
    expect(await handler(sqs(startedSample), context)).toEqual({ batchItemFailures: [] });
    const broken = structuredClone(completedSample) as { detail: { data: { video?: unknown } } };
    delete broken.detail.data.video;
    expect(await handler(sqs(broken), context)).toEqual({ batchItemFailures: [] });
    expect(sent).toHaveLength(0);
    expect(publisher.published).toHaveLength(0);
  });
});
