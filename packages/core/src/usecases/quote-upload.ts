import { quoteRequestBodySchema } from "@reelbridge/events/http";
import type { QuoteResponse } from "@reelbridge/events/http";
import type { Clock } from "../ports";
import { fieldIssues } from "../upload/request";
import { UploadValidationError } from "../upload/errors";
import { quoteJob, roundUsd, formatUsd } from "../jobs/cost";
import type { QuoteConfig } from "../jobs/cost";
import { budgetDay, toNanoUsd } from "../jobs/budget";
import type { BudgetLimits, BudgetStore } from "../jobs/budget";

export interface QuoteUploadDeps {
  clock: Clock;
  quote: QuoteConfig;
  budget?: { limits?: BudgetLimits; store?: BudgetStore };
}

/**
 * POST /quotes: what POST /uploads would quote for these parameters (the same quoteJob and
 * QuoteConfig, so one definition of prices) and whether its caps would admit it now — the
 * caller's maxCostUsd, the stage's per-job cap, and the owner's day as reserved so far. Reads the
 * day's spend; reserves nothing. Throws UploadValidationError (→ 400) naming fields.
 */
export async function quoteUpload(deps: QuoteUploadDeps, input: unknown, caller: { owner: string }): Promise<QuoteResponse> {
  const parsed = quoteRequestBodySchema.safeParse(input);
  if (!parsed.success) throw new UploadValidationError("the quote request is invalid", fieldIssues(parsed.error));
  const { maxCostUsd, generation = "included", ...params } = parsed.data;
  const reused = generation === "reused";
  const quote = quoteJob(params, reused ? { ...deps.quote, generation: false } : deps.quote);
  const cost = roundUsd(quote.totalUsd);
  const day = budgetDay(deps.clock.now());
  // A re-render's quote is reserved against the same caps as an upload's (usecases/rerender.ts).
  const limits = deps.budget?.limits;
  const over = (limit: number) => toNanoUsd(cost) > toNanoUsd(limit);

  let spentTodayUsd: number | undefined;
  if (limits?.perOwnerPerDayUsd !== undefined && deps.budget?.store) spentTodayUsd = await deps.budget.store.spent({ owner: caller.owner, day });

  let refusal: NonNullable<QuoteResponse["budget"]["refusal"]> | undefined;
  if (maxCostUsd !== undefined && over(maxCostUsd)) {
    refusal = { kind: "maxCost", usd: maxCostUsd, day, message: `the job is quoted at ${formatUsd(cost)}, over the ${formatUsd(maxCostUsd)} the request allows (maxCostUsd)` };
  } else if (limits?.perJobUsd !== undefined && over(limits.perJobUsd)) {
    refusal = { kind: "perJob", usd: limits.perJobUsd, day, message: `the job is quoted at ${formatUsd(cost)}, over the stage's cap of ${formatUsd(limits.perJobUsd)} per job` };
  } else if (limits?.perOwnerPerDayUsd !== undefined && spentTodayUsd !== undefined && toNanoUsd(spentTodayUsd) + toNanoUsd(cost) > toNanoUsd(limits.perOwnerPerDayUsd)) {
    refusal = {
      kind: "perOwnerPerDay",
      usd: limits.perOwnerPerDayUsd,
      day,
      spentUsd: spentTodayUsd,
      message: `the job (${formatUsd(cost)}) would take your spend on ${day} (UTC) over the cap of ${formatUsd(limits.perOwnerPerDayUsd)} per day; ${formatUsd(spentTodayUsd)} is already reserved`,
    };
  }
  return {
    quote,
    generation,
    budget: {
      fits: !refusal,
      day,
      ...(limits?.perJobUsd !== undefined ? { perJobUsd: limits.perJobUsd } : {}),
      ...(limits?.perOwnerPerDayUsd !== undefined ? { perOwnerPerDayUsd: limits.perOwnerPerDayUsd } : {}),
      ...(spentTodayUsd !== undefined ? { spentTodayUsd } : {}),
      ...(refusal ? { refusal } : {}),
    },
  };
}
