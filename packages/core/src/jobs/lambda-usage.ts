import type { StepStateStore } from "../ports";

/**
 * What our own Lambdas used for one job, measured per invocation (issue #13 items 1 and 3):
 * each invocation's duration × the memory it was configured with (AWS: the handler wrapper,
 * with context.memoryLimitInMB; the local runtime invokes the same wrapper with the topology's
 * memoryMB as that value). Kept per job and step in step state, one attribute per invocation
 * in the record `lambda-usage.{step}`, written with an unconditional merge: concurrent
 * invocations of a step never overwrite each other's figures, and a retried write of the same
 * invocation replaces itself (keyed by the request id).
 */

export const LAMBDA_USAGE_STATE = "lambda-usage";
export const lambdaUsageName = (step: string) => `${LAMBDA_USAGE_STATE}.${step}`;

export interface InvocationUsage {
  /** Wall time of the invocation (share of it, for a batch of several jobs), ms. */
  ms: number;
  /** Its configured memory, MB. */
  memoryMB: number;
}

export interface StepUsage {
  invocations: number;
  ms: number;
  gbSeconds: number;
}

/** GB-seconds of one invocation, as Lambda bills them (duration × memory in GB). */
export const gbSecondsOf = (u: InvocationUsage): number => (u.ms / 1000) * (u.memoryMB / 1024);

const attr = (invocationId: string) => `i_${invocationId.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 80)}`;

const isUsage = (v: unknown): v is InvocationUsage =>
  typeof v === "object" && v !== null && Number.isFinite((v as InvocationUsage).ms) && Number.isFinite((v as InvocationUsage).memoryMB) && (v as InvocationUsage).ms >= 0 && (v as InvocationUsage).memoryMB > 0;

/** Sums a `lambda-usage.{step}` record (attributes that are not invocations are skipped). */
export function sumUsage(record: Record<string, unknown> | undefined): StepUsage {
  let invocations = 0;
  let ms = 0;
  let gbSeconds = 0;
  for (const [k, v] of Object.entries(record ?? {})) {
    if (!k.startsWith("i_") || !isUsage(v)) continue;
    invocations++;
    ms += v.ms;
    gbSeconds += gbSecondsOf(v);
  }
  return { invocations, ms, gbSeconds };
}

export interface LambdaUsageLedger {
  record(jobId: string, step: string, invocationId: string, usage: InvocationUsage): Promise<void>;
  read(jobId: string, step: string): Promise<StepUsage>;
}

export function createLambdaUsageLedger(state: StepStateStore): LambdaUsageLedger {
  return {
    async record(jobId, step, invocationId, usage) {
      await state.update(jobId, lambdaUsageName(step), { [attr(invocationId)]: { ms: Math.round(usage.ms * 1000) / 1000, memoryMB: usage.memoryMB } });
    },
    async read(jobId, step) {
      return sumUsage(await state.get(jobId, lambdaUsageName(step)));
    },
  };
}
