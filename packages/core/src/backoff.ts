/**
 * Exponential backoff, the one formula every retry of the pipeline uses (PutEvents' failed
 * entries, webhook attempts, LTX requests, DynamoDB write conflicts, queue redeliveries):
 * `baseMs · 2^(attempt−1)`, capped at `maxMs`, then jittered so that retries started together
 * spread out (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 *   - "equal": half the delay fixed, half random — never retries sooner than half the step;
 *   - "full": anywhere from 0 to the delay;
 *   - "none": exactly the delay.
 * `attempt` is 1-based: the wait after the first failure.
 */
export type Jitter = "equal" | "full" | "none";

export function backoffMs(attempt: number, opts: { baseMs: number; maxMs?: number; jitter?: Jitter; random?: () => number }): number {
  const n = Math.max(1, Math.floor(attempt) || 1);
  const step = Math.min(opts.maxMs ?? Number.POSITIVE_INFINITY, opts.baseMs * 2 ** Math.min(n - 1, 30));
  const r = (opts.random ?? Math.random)();
  switch (opts.jitter ?? "equal") {
    case "none":
      return step;
    case "full":
      return Math.floor(r * step);
    case "equal":
      return Math.round(step / 2 + r * (step / 2));
  }
}
