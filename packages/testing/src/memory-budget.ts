/** The in-memory BudgetStore (core jobs/budget.ts) for other packages' tests. */
export { createMemoryBudgetStore } from "@reelbridge/core/jobs/budget";
