/**
 * The budget cap (issue #13 item 2): a stage may cap what one job may cost and what one owner
 * may spend per UTC day. The upload API reserves a job's quote against the owner's day before it
 * hands out the presigned POST, so nothing is paid for a job over the cap; the LTX step checks
 * again before it submits the generation (VideoBaseFailed, reason BudgetExceeded, when the cap
 * was crossed in between, e.g. lowered by a deploy).
 *
 * Atomicity lives in the store: `reserve` adds to the day's spend only if the sum stays within
 * the limit, in one conditional write (DynamoDB: UpdateItem ADD with a condition), so N
 * concurrent uploads against the cap admit exactly the ones that fit. Amounts are counted in
 * integer nano-dollars, like the ledger's sums (cost.ts).
 */
import { formatUsd, roundUsd } from "./cost";
import type { JobCost } from "./cost";

export interface BudgetLimits {
  /** The most one job may be quoted or cost, USD. */
  perJobUsd?: number;
  /** The most one owner may reserve per UTC day, USD. */
  perOwnerPerDayUsd?: number;
}

/** The owner's spend per UTC day, reserved atomically. */
export interface BudgetStore {
  /**
   * Adds `usd` to the owner's spend on `day` if the result stays at or under `limitUsd`, in one
   * atomic step. Returns whether it did, and the day's spend after (or as found, when refused).
   */
  reserve(req: { owner: string; day: string; usd: number; limitUsd: number }): Promise<{ reserved: boolean; spentUsd: number }>;
  /** Gives back a reservation that will not be used (the presigned POST could not be issued). */
  release(req: { owner: string; day: string; usd: number }): Promise<void>;
  /** The owner's spend on `day` (0 when none). */
  spent(req: { owner: string; day: string }): Promise<number>;
}

export const NANOS_PER_USD = 1e9;
export const toNanoUsd = (usd: number): number => Math.round(usd * NANOS_PER_USD);
export const fromNanoUsd = (nanos: number): number => nanos / NANOS_PER_USD;

/** The budget day of an instant: its UTC date, "2026-12-02". */
export const budgetDay = (at: Date | string): string => new Date(at).toISOString().slice(0, 10);

export type BudgetLimitKind = "perJob" | "perOwnerPerDay" | "maxCost";

export type BudgetDecision =
  | { ok: true; reservedUsd: number; spentTodayUsd?: number; day: string }
  | { ok: false; limit: BudgetLimitKind; limitUsd: number; costUsd: number; spentTodayUsd?: number; day: string; message: string };

/** A job refused for its cost: the upload API answers 402 with it (events/http.ts `BudgetExceededBody`). */
export class BudgetExceededError extends Error {
  readonly code = "BudgetExceeded";
  constructor(
    readonly decision: Extract<BudgetDecision, { ok: false }>,
    /** The quote that was refused (absent when the check was of an actual cost). */
    readonly quote?: JobCost,
  ) {
    super(decision.message);
    this.name = "BudgetExceededError";
  }
}

const perJobMessage = (cost: number, limit: number) => `the job is quoted at ${formatUsd(cost)}, over the stage's cap of ${formatUsd(limit)} per job`;
const perDayMessage = (cost: number, limit: number, spent: number, day: string) =>
  `the job (${formatUsd(cost)}) would take the owner's spend on ${day} (UTC) over the cap of ${formatUsd(limit)} per day; ${formatUsd(spent)} is already reserved`;

/**
 * At upload: refuses a quote over the per-job cap or the caller's own `maxCostUsd`, then
 * reserves it against the owner's day. Nothing is reserved when a check fails.
 */
export async function reserveBudget(
  store: BudgetStore | undefined,
  limits: BudgetLimits | undefined,
  req: { owner: string; at: Date; quoteUsd: number; maxCostUsd?: number },
): Promise<BudgetDecision> {
  const day = budgetDay(req.at);
  const cost = roundUsd(req.quoteUsd);
  if (req.maxCostUsd !== undefined && toNanoUsd(cost) > toNanoUsd(req.maxCostUsd)) {
    return { ok: false, limit: "maxCost", limitUsd: req.maxCostUsd, costUsd: cost, day, message: `the job is quoted at ${formatUsd(cost)}, over the ${formatUsd(req.maxCostUsd)} the request allows (maxCostUsd)` };
  }
  if (limits?.perJobUsd !== undefined && toNanoUsd(cost) > toNanoUsd(limits.perJobUsd)) {
    return { ok: false, limit: "perJob", limitUsd: limits.perJobUsd, costUsd: cost, day, message: perJobMessage(cost, limits.perJobUsd) };
  }
  if (limits?.perOwnerPerDayUsd === undefined) return { ok: true, reservedUsd: 0, day };
  if (!store) throw new Error("the stage caps spend per owner per day but this function has no budget store");
  const limit = limits.perOwnerPerDayUsd;
  const r = await store.reserve({ owner: req.owner, day, usd: cost, limitUsd: limit });
  if (!r.reserved) {
    return { ok: false, limit: "perOwnerPerDay", limitUsd: limit, costUsd: cost, spentTodayUsd: r.spentUsd, day, message: perDayMessage(cost, limit, r.spentUsd, day) };
  }
  return { ok: true, reservedUsd: cost, spentTodayUsd: r.spentUsd, day };
}

/**
 * Before the generation is paid for (the LTX step): the job's cost against the per-job cap, and
 * the owner's day (which already holds this job's reservation) against the per-day cap. Reserves
 * nothing. `createdAt` is the job's (params.createdAt): its reservation was made on that day.
 */
export async function checkBudgetBeforeGeneration(
  store: BudgetStore | undefined,
  limits: BudgetLimits | undefined,
  req: { owner: string; createdAt: string; costUsd: number },
): Promise<BudgetDecision> {
  const day = budgetDay(req.createdAt);
  const cost = roundUsd(req.costUsd);
  if (limits?.perJobUsd !== undefined && toNanoUsd(cost) > toNanoUsd(limits.perJobUsd)) {
    return { ok: false, limit: "perJob", limitUsd: limits.perJobUsd, costUsd: cost, day, message: perJobMessage(cost, limits.perJobUsd) };
  }
  if (limits?.perOwnerPerDayUsd === undefined || !store) return { ok: true, reservedUsd: 0, day };
  const spent = await store.spent({ owner: req.owner, day });
  if (toNanoUsd(spent) > toNanoUsd(limits.perOwnerPerDayUsd)) {
    return {
      ok: false,
      limit: "perOwnerPerDay",
      limitUsd: limits.perOwnerPerDayUsd,
      costUsd: cost,
      spentTodayUsd: spent,
      day,
      message: `the owner's spend on ${day} (UTC), ${formatUsd(spent)}, is over the stage's cap of ${formatUsd(limits.perOwnerPerDayUsd)} per day`,
    };
  }
  return { ok: true, reservedUsd: 0, spentTodayUsd: spent, day };
}

/** A BudgetStore in memory (tests, and a runtime without DynamoDB); atomic within one process. */
export function createMemoryBudgetStore(): BudgetStore & { readonly days: Map<string, number> } {
  const days = new Map<string, number>();
  const k = (owner: string, day: string) => `${owner}\u0000${day}`;
  return {
    days,
    async reserve({ owner, day, usd, limitUsd }) {
      const key = k(owner, day);
      const now = days.get(key) ?? 0;
      const next = now + toNanoUsd(usd);
      if (next > toNanoUsd(limitUsd)) return { reserved: false, spentUsd: fromNanoUsd(now) };
      days.set(key, next);
      return { reserved: true, spentUsd: fromNanoUsd(next) };
    },
    async release({ owner, day, usd }) {
      const key = k(owner, day);
      days.set(key, Math.max(0, (days.get(key) ?? 0) - toNanoUsd(usd)));
    },
    async spent({ owner, day }) {
      return fromNanoUsd(days.get(k(owner, day)) ?? 0);
    },
  };
}
