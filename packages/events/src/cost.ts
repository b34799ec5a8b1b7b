import { z } from "zod";

/**
 * What a job cost (or will cost), line by line, each with its basis: the contract the events
 * (`stepCost`), the job record, the status API and the upload API's quote share. The prices and
 * the arithmetic live in @reelbridge/core (jobs/cost.ts, jobs/prices.ts); this module holds only
 * the shape, so the browser bundle (./http) can parse it without core.
 *
 * Amounts are US dollars rounded to 1e-9 (a nano-dollar), so sums over lines are exact integer
 * arithmetic in nano-dollars and do not depend on the order they are added in.
 */

/** Line items: lower-case words, `:` separating a kind from its subject ("lambda:ltx-step"). */
export const costItemSchema = z.string().regex(/^[a-z0-9][a-z0-9:._-]{0,79}$/, "must be a lower-case cost item id, e.g. lambda:ltx-step");

export const costLineSchema = z.object({
  /** What was paid for: "ltx-generation", "remotion-render", "lambda:<function>", "eventbridge", "sqs", "s3", "dynamodb". */
  item: costItemSchema,
  /** How the amount was reached, for humans: "6 s × $0.04/s (ltx-2-fast, 1080p; docs.ltx.video/pricing, 2026-08-24)". */
  basis: z.string().min(1).max(500),
  quantity: z.number().nonnegative().max(1e12),
  /** The unit of `quantity`: "s", "GB-s", "request", "event", "write", "read", "render". */
  unit: z.string().min(1).max(40),
  unitPriceUsd: z.number().nonnegative().max(1e6),
  usd: z.number().nonnegative().max(1e6),
  /** True when the amount is an estimate (a quote, or a provider's own estimate such as Remotion's). */
  estimated: z.boolean().optional(),
  /** For a "lambda:<function>" line: how many invocations it measured (the basis says it too, for humans). */
  invocations: z.number().int().nonnegative().max(1e9).optional(),
});
export type CostLine = z.infer<typeof costLineSchema>;

export const jobCostSchema = z.object({
  lines: z.array(costLineSchema).max(200),
  /** The sum of the lines' usd (in nano-dollars, then back to dollars). */
  totalUsd: z.number().nonnegative().max(1e8),
});
export type JobCost = z.infer<typeof jobCostSchema>;

/** "$0.2400", "$0.000123": an amount as people read it, enough digits to show a sub-cent one (CLI, web client, messages). */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  if (usd >= 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toPrecision(3)}`;
}
