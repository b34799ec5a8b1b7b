import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { budgetExceededBodySchema, jobViewSchema, uploadResponseSchema } from "@reelbridge/events/http";
import { costSummary, priceSummary, quoteSummary } from "../../src/cost";
import { progressText } from "../../src/progress";

const sample = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../events/samples/http/${name}.json`, import.meta.url), "utf8"));

const line = (item: string, usd: number, estimated?: boolean) => ({ item, basis: "b", quantity: 1, unit: "u", unitPriceUsd: usd, usd, ...(estimated ? { estimated } : {}) });

describe("the job view's cost line", () => {
  it("shows the total and its largest parts, our Lambdas added up as one", () => {
    const cost = { lines: [line("ltx-generation", 0.24), line("remotion-render", 0.0042, true), line("lambda:ltx-step", 0.00005), line("lambda:segmenter", 0.00002), line("eventbridge", 0.000007)], totalUsd: 0.244277 };
    expect(costSummary(cost, "completed")).toBe("Cost: $0.2443 (animation $0.2400, render $0.00420, our functions $0.0000700), partly estimated.");
    expect(costSummary(cost, "rendering")).toMatch(/^Cost so far: \$0\.2443/);
  });

  it("a failed job shows what it cost; a job view without the ledger shows nothing", () => {
    expect(costSummary({ lines: [line("eventbridge", 0.000002)], totalUsd: 0.000002 }, "failed")).toBe("Cost: $0.00000200 (events $0.00000200).");
    expect(costSummary(undefined, "completed")).toBeUndefined();
  });

  it("the published samples carry what the page shows: the quote of an upload, the quote of a refusal", () => {
    expect(quoteSummary(uploadResponseSchema.parse(sample("UploadResponse")).quote)).toMatch(/^Estimated cost: \$0\.2603\.$/);
    expect(quoteSummary(budgetExceededBodySchema.parse(sample("BudgetExceeded")).quote)).toMatch(/^Estimated cost: \$3\.42/);
    // A job view from before the ledger still parses (cost is optional).
    expect(jobViewSchema.parse(sample("JobView")).cost).toBeUndefined();
  });
});

describe("priceSummary and progressText (issue #14 items 2, 3)", () => {
  const quote = { lines: [{ item: "ltx-generation", basis: "8 s", quantity: 8, unit: "second", unitPriceUsd: 0.04, usd: 0.32, estimated: true }], totalUsd: 0.3465 };
  it("names the price and what it is for, and a cap that refuses it", () => {
    expect(priceSummary({ quote, generation: "included", budget: { fits: true } })).toEqual({ text: "Estimated price: $0.3465 (animation of 8 s $0.3200)." });
    const refused = priceSummary({ quote, generation: "included", budget: { fits: false, refusal: { message: "the job is quoted at $0.3465, over the stage's cap of $0.3000 per job" } } });
    expect(refused.refusal).toBe("Over budget: the job is quoted at $0.3465, over the stage's cap of $0.3000 per job. Nothing will be paid.");
    expect(priceSummary({ quote: { lines: [], totalUsd: 0.02 }, generation: "reused", budget: { fits: true } }).text).toBe("Estimated price: $0.0200 (the animation is reused, not paid again).");
  });
  it("shows the percentage and counts the time left down from when it was measured", () => {
    const measuredAt = "2026-11-20T10:00:20.000Z";
    expect(progressText({ fraction: 0.25, startedAt: "2026-11-20T10:00:00.000Z", measuredAt, secondsLeft: 60 }, new Date(measuredAt))).toBe("25%, about 60 s left");
    expect(progressText({ fraction: 0.25, startedAt: "2026-11-20T10:00:00.000Z", measuredAt, secondsLeft: 60 }, new Date("2026-11-20T10:01:19.000Z"))).toBe("25%, almost done");
    expect(progressText({ fraction: 0.5, measuredAt, secondsLeft: 600 }, new Date(measuredAt))).toBe("50%, about 10 min left");
    expect(progressText({ startedAt: "2026-11-20T10:00:00.000Z" }, new Date("2026-11-20T10:00:42.000Z"))).toBe("running for 42 s");
  });
});
