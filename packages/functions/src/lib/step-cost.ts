import type { EventPublisher } from "@reelbridge/core";
import { lambdaCost, sumCost } from "@reelbridge/core/jobs/cost";
import type { LambdaArch } from "@reelbridge/core/jobs/cost";
import type { DetailType, JobCost } from "@reelbridge/events";
import type { StepContext } from "./handlers";
import type { Subscription } from "../topology";
import { ALL_FEATURES, endpoints, schedules, subscriptions } from "../topology";

/**
 * A function's architecture as the stacks deploy it: x86_64 when it ships native binaries
 * (stacks/lib/native.ts, docs/decisions/0007), else the app's arm64.
 */
export const lambdaArchOf = (fn: Pick<Subscription, "native">): LambdaArch => (fn.native?.length ? "x86_64" : "arm64");

/** The architecture of any function of THE topology (subscription, endpoint or schedule) by name; throws for an unknown name. */
export function functionArch(name: string): LambdaArch {
  const fn = [...subscriptions({ mediaBucket: "-", features: ALL_FEATURES }), ...endpoints, ...schedules].find((f) => f.name === name);
  if (!fn) throw new Error(`the topology (packages/functions/src/topology.ts) has no function named ${JSON.stringify(name)}`);
  return lambdaArchOf(fn as Pick<Subscription, "native">);
}

/**
 * The step's own Lambda line for the job (issue #13 item 1): the GB-s its invocations used so far
 * (the handler wrapper's meter, core/jobs/lambda-usage.ts: earlier invocations recorded in step
 * state plus this one up to now) at its architecture's price. Undefined when nothing was measured.
 */
export async function stepLambdaCost(ctx: Pick<StepContext, "lambdaUsage">, fn: string, arch: LambdaArch): Promise<JobCost | undefined> {
  const u = await ctx.lambdaUsage();
  if (!(u.gbSeconds > 0)) return undefined;
  return sumCost([lambdaCost(u.gbSeconds, arch, { fn, invocations: u.invocations })]);
}

/**
 * A publisher that puts `cost()` on the step-ending events it publishes (their `stepCost`,
 * additive within v1) when they carry none, so a use-case needs no change to report its step's
 * Lambda time. Computed once per publish, as late as possible: the line covers the invocation up
 * to the announcement.
 */
export function withStepCost(publisher: EventPublisher, types: readonly DetailType[], cost: () => Promise<JobCost | undefined>): EventPublisher {
  const wants = (e: { type: DetailType; data: unknown }) => types.includes(e.type) && (e.data as { stepCost?: unknown }).stepCost === undefined;
  return {
    async publish(events) {
      const c = events.some(wants) ? await cost().catch(() => undefined) : undefined;
      return publisher.publish(c ? events.map((e) => (wants(e) ? { ...e, data: { ...e.data, stepCost: c } } : e)) : events);
    },
  };
}
