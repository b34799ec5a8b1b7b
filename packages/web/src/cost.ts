import { formatUsd } from "@reelbridge/events/http";
import type { JobView } from "@reelbridge/events/http";

type Cost = NonNullable<JobView["cost"]>;

/** Readable names of the cost ledger's items (the rest show their id). */
const names: Record<string, string> = {
  "ltx-generation": "animation",
  "remotion-render": "render",
  eventbridge: "events",
};
const nameOf = (item: string) => names[item] ?? (item.startsWith("lambda") ? "our functions" : item);

/**
 * The job view's cost line: the total, then its largest parts (items of the same name added
 * up, e.g. every Lambda as "our functions"), and whether any part is an estimate. Failed jobs
 * too: what was paid before they failed.
 */
export function costSummary(cost: Cost | undefined, status: string): string | undefined {
  if (!cost) return undefined;
  const parts = new Map<string, number>();
  for (const l of cost.lines) parts.set(nameOf(l.item), (parts.get(nameOf(l.item)) ?? 0) + l.usd);
  const top = [...parts].filter(([, usd]) => usd > 0).sort((a, b) => b[1] - a[1]).slice(0, 3);
  const estimated = cost.lines.some((l) => l.estimated && l.usd > 0);
  const label = status === "completed" || status === "failed" || status === "cancelled" ? "Cost" : "Cost so far";
  const detail = top.length ? ` (${top.map(([name, usd]) => `${name} ${formatUsd(usd)}`).join(", ")})` : "";
  return `${label}: ${formatUsd(cost.totalUsd)}${detail}${estimated ? ", partly estimated" : ""}.`;
}

/** What the upload API quoted, shown while the photo uploads. */
export const quoteSummary = (quote: Cost): string => `Estimated cost: ${formatUsd(quote.totalUsd)}.`;

/**
 * The price shown before "Create video" (POST /quotes) or before a re-render: the total, what it
 * is mostly for, and whether a cap refuses it.
 */
export function priceSummary(q: { quote: Cost; generation: "included" | "reused"; budget: { fits: boolean; refusal?: { message: string } | undefined } }): { text: string; refusal?: string } {
  const anim = q.quote.lines.find((l) => l.item === "ltx-generation");
  const why = q.generation === "reused" ? "the animation is reused, not paid again" : anim ? `animation of ${anim.quantity} s ${formatUsd(anim.usd)}` : undefined;
  const text = `Estimated price: ${formatUsd(q.quote.totalUsd)}${why ? ` (${why})` : ""}.`;
  return q.budget.fits ? { text } : { text, refusal: `Over budget: ${q.budget.refusal?.message ?? "a spending cap refuses this video"}. Nothing will be paid.` };
}
