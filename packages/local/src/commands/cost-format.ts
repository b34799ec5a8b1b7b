import type { JobCost } from "@reelbridge/events";
import { formatUsd } from "@reelbridge/core/jobs/cost";

/**
 * A job's cost as the CLI prints it (reelbridge run's summary, reelbridge job): the total, then
 * one line per item with its amount and basis. `label` is the first column ("cost", "quote").
 */
export function formatCost(label: string, cost: JobCost, opts: { width?: number; note?: string } = {}): string[] {
  const w = opts.width ?? 14;
  const estimated = cost.lines.some((l) => l.estimated);
  const head = `  ${label.padEnd(w)} ${formatUsd(cost.totalUsd)}${estimated ? " (estimated lines marked ~)" : ""}${opts.note ? `; ${opts.note}` : ""}`;
  const lines = cost.lines.map((l) => `  ${"".padEnd(w)} ${l.estimated ? "~" : " "}${formatUsd(l.usd).padStart(12)}  ${l.item.padEnd(20)} ${l.basis}`);
  return [head, ...lines];
}
