import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { budgetExceededBodySchema, jobViewSchema, uploadResponseSchema } from "@reelbridge/events/http";
import { costSummary, quoteSummary } from "../../src/cost";

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
