import type { BudgetExceededError } from "@reelbridge/core/jobs/budget";
import type { BudgetExceededBody } from "@reelbridge/events/http";
import type { HttpResponse } from "./handlers";

/**
 * 402 BudgetExceeded (events/http.ts `BudgetExceededBody`): the one answer to a job or a
 * re-render refused for its cost, from the upload API and the jobs API alike.
 */
export function budgetExceededResponse(err: BudgetExceededError): HttpResponse {
  const d = err.decision;
  const body: BudgetExceededBody = {
    error: "BudgetExceeded",
    message: err.message,
    quote: err.quote ?? { lines: [], totalUsd: d.costUsd },
    limit: { kind: d.limit, usd: d.limitUsd, day: d.day, ...(d.spentTodayUsd !== undefined ? { spentUsd: d.spentTodayUsd } : {}) },
  };
  return { status: 402, headers: { "cache-control": "no-store" }, body };
}
