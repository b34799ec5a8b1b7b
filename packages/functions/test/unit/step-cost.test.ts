import { describe, expect, it } from "vitest";
import type { OutgoingEvent } from "@reelbridge/core";
import { createMemoryPublisher } from "@reelbridge/core/publish";
import { pipelineEvents } from "@reelbridge/events";
import { lambdaArchOf, stepLambdaCost, withStepCost } from "../../src/lib/step-cost";
import { subscriptionNamed } from "../../src/lib/topology";
import readySample from "@reelbridge/events/samples/v1/SegmentsReady.json";
import startedSample from "@reelbridge/events/samples/v1/RenderStarted.json";

const loadSample = <T extends "SegmentsReady" | "RenderStarted">(type: T) => pipelineEvents[type].event.parse(structuredClone(type === "SegmentsReady" ? readySample : startedSample));

describe("a step's own Lambda line on the events that end it", () => {
  const usage = (gbSeconds: number, invocations = 1) => ({ lambdaUsage: async () => ({ invocations, ms: 1000, gbSeconds, memoryMB: 1024 }) });

  it("prices the measured GB-s at the architecture the stacks deploy the function with", async () => {
    expect(lambdaArchOf(subscriptionNamed("segmenter"))).toBe("x86_64");
    expect(lambdaArchOf(subscriptionNamed("notifier"))).toBe("arm64");
    const cost = await stepLambdaCost(usage(2, 3), "segmenter", "x86_64");
    expect(cost?.lines).toEqual([expect.objectContaining({ item: "lambda:segmenter", quantity: 2, unit: "GB-s", usd: 0.000033333, basis: expect.stringContaining("3 invocations, x86_64") })]);
    expect(await stepLambdaCost(usage(0), "segmenter", "x86_64")).toBeUndefined();
  });

  it("adds the line to the listed event types that carry none, and leaves the rest as they are", async () => {
    const inner = createMemoryPublisher();
    const cost = await stepLambdaCost(usage(1.5), "segmenter", "x86_64");
    const ready = loadSample("SegmentsReady");
    const started = loadSample("RenderStarted");
    const own = { lines: [], totalUsd: 0 };
    const events = [
      { type: "SegmentsReady", data: ready.detail.data, eventId: "e1", jobId: ready.detail.metadata.jobId, causationId: "c" },
      { type: "RenderStarted", data: started.detail.data, eventId: "e2", jobId: ready.detail.metadata.jobId, causationId: "c" },
      { type: "SegmentsReady", data: { ...ready.detail.data, stepCost: own }, eventId: "e3", jobId: ready.detail.metadata.jobId, causationId: "c" },
    ] as OutgoingEvent[];
    await withStepCost(inner, ["SegmentsReady"], async () => cost).publish(events);
    const [a, b, c] = inner.published;
    expect((a!.data as { stepCost?: unknown }).stepCost).toEqual(cost);
    expect(() => pipelineEvents.SegmentsReady.data.parse(a!.data)).not.toThrow();
    expect((b!.data as { stepCost?: unknown }).stepCost).toBeUndefined();
    expect((c!.data as { stepCost?: unknown }).stepCost).toBe(own);
  });

  it("publishes without the line when measuring fails: the event matters more than its cost", async () => {
    const inner = createMemoryPublisher();
    const ready = loadSample("SegmentsReady");
    await withStepCost(inner, ["SegmentsReady"], async () => Promise.reject(new Error("state store down"))).publish([{ type: "SegmentsReady", data: ready.detail.data, eventId: "e1", jobId: ready.detail.metadata.jobId, causationId: "c" }]);
    expect(inner.published).toHaveLength(1);
    expect((inner.published[0]!.data as { stepCost?: unknown }).stepCost).toBeUndefined();
  });
});
