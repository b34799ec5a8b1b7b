import { describe, expect, it } from "vitest";
import { jobCostSchema } from "@reelbridge/events";
import { LTX_MODELS } from "../../../src/adapters/ltx/contract";
import { UnpricedError, formatUsd, lambdaCost, ltxCost, ltxTier, quoteJob, remotionCost, sumCost } from "../../../src/jobs/cost";
import { LTX_PRICE_PER_SECOND } from "../../../src/jobs/prices";

describe("ltxCost", () => {
  it("is seconds × the model's price at the frame's tier (REFERENCE.md §1.5 examples: 6 s at 1080p)", () => {
    const fast = ltxCost({ provider: "ltx", model: "ltx-2-fast", seconds: 6, width: 1080, height: 1920 });
    expect(fast).toMatchObject({ item: "ltx-generation", quantity: 6, unit: "s", unitPriceUsd: 0.04, usd: 0.24 });
    expect(fast.basis).toContain("docs.ltx.video/pricing");
    expect(ltxCost({ provider: "ltx", model: "ltx-2-3-pro", seconds: 6, width: 1920, height: 1080 }).usd).toBe(0.48);
    expect(ltxCost({ provider: "ltx", model: "ltx-2-5-pro", seconds: 6, width: 1080, height: 1920 }).usd).toBe(1.02);
  });

  it("prices 4K above 1080p and refuses a tier the model is not sold at", () => {
    expect(ltxCost({ provider: "ltx", model: "ltx-2-pro", seconds: 10, width: 3840, height: 2160 }).usd).toBe(2.4);
    expect(() => ltxCost({ provider: "ltx", model: "ltx-2-fast", seconds: 6, width: 1280, height: 720 })).toThrow(UnpricedError);
    expect(() => ltxCost({ provider: "ltx", model: "ltx-2-fast", seconds: -1, width: 1080, height: 1920 })).toThrow(RangeError);
  });

  it("charges nothing for the offline generator and says what LTX would have charged", () => {
    const off = ltxCost({ provider: "offline", model: "ltx-2-fast", seconds: 6, width: 1080, height: 1920 });
    expect(off.usd).toBe(0);
    expect(off.basis).toMatch(/offline generator.*\$0\.04\/s/);
  });

  it("has a price for every model the LTX contract accepts, at 1080p", () => {
    for (const m of LTX_MODELS) expect(LTX_PRICE_PER_SECOND[m]["1080p"]).toBeGreaterThan(0);
  });

  it("tiers by the shorter side", () => {
    expect(ltxTier(1080, 1920)).toBe("1080p");
    expect(ltxTier(2560, 1440)).toBe("1440p");
    expect(ltxTier(2160, 3840)).toBe("2160p");
    expect(ltxTier(720, 1280)).toBe("720p");
  });
});

describe("lambdaCost", () => {
  it("is GB-s × the architecture's price (arm64 20% cheaper)", () => {
    const x86 = lambdaCost(160, "x86_64", { fn: "ltx-step", invocations: 1 });
    expect(x86).toMatchObject({ item: "lambda:ltx-step", unit: "GB-s", quantity: 160, usd: 0.002666672 });
    const arm = lambdaCost(160, "arm64");
    expect(arm.item).toBe("lambda");
    expect(arm.usd).toBeLessThan(x86.usd);
    expect(arm.usd / x86.usd).toBeCloseTo(0.8, 3);
  });
});

describe("sumCost", () => {
  it("gives the same total in any order (integer nano-dollars), and a total that parses as the contract", () => {
    const lines = [lambdaCost(0.1, "x86_64"), lambdaCost(0.2, "x86_64"), ltxCost({ provider: "ltx", model: "ltx-2-fast", seconds: 7, width: 1080, height: 1920 }), lambdaCost(0.3, "arm64")];
    const a = sumCost(lines).totalUsd;
    const b = sumCost([...lines].reverse()).totalUsd;
    const c = sumCost([lines[2]!, lines[0]!, lines[3]!, lines[1]!]).totalUsd;
    expect(a).toBe(b);
    expect(a).toBe(c);
    expect(a).toBeCloseTo(0.28 + 0.6 * 0.0000166667 - 0.3 * (0.0000166667 - 0.0000133334), 9);
    expect(jobCostSchema.parse(sumCost(lines))).toEqual(sumCost(lines));
  });
});

describe("quoteJob", () => {
  it("quotes the generation from the duration and aspect asked for, plus the render and our services, all estimated", () => {
    const q = quoteJob({ aspect: "9:16", durationSeconds: 6 }, { ltx: { provider: "ltx", model: "ltx-2-fast" } });
    expect(q.lines.every((l) => l.estimated === true)).toBe(true);
    expect(q.lines.find((l) => l.item === "ltx-generation")?.usd).toBe(0.24);
    expect(q.lines.find((l) => l.item === "remotion-render")?.usd).toBeGreaterThan(0);
    for (const item of ["lambda", "eventbridge", "sqs", "s3:put", "dynamodb:write"]) expect(q.lines.some((l) => l.item === item)).toBe(true);
    expect(q.totalUsd).toBeGreaterThan(0.24);
    expect(q.totalUsd).toBeLessThan(0.3);
    const longer = quoteJob({ aspect: "16:9", durationSeconds: 10 }, { ltx: { provider: "ltx", model: "ltx-2-fast" } });
    expect(longer.totalUsd - q.totalUsd).toBeCloseTo(0.16, 9);
  });

  it("a re-render quotes no generation; a local stage pays for neither generation nor render", () => {
    const rerender = quoteJob({ aspect: "9:16", durationSeconds: 6 }, { ltx: { provider: "ltx", model: "ltx-2-fast" }, generation: false });
    expect(rerender.lines.some((l) => l.item === "ltx-generation")).toBe(false);
    const local = quoteJob({ aspect: "9:16", durationSeconds: 6 }, { ltx: { provider: "offline", model: "ltx-2-fast" }, renderer: "remotion-local" });
    expect(local.totalUsd).toBeGreaterThan(0);
    expect(local.totalUsd).toBeLessThan(0.001);
  });
});

describe("remotionCost and formatUsd", () => {
  it("turns Remotion's USD estimate into a line, and ignores other currencies", () => {
    expect(remotionCost({ estimated: 0.0123, currency: "USD", disclaimer: "estimate" }, "remotion-lambda")).toMatchObject({ item: "remotion-render", usd: 0.0123, estimated: true });
    expect(remotionCost({ estimated: 1, currency: "EUR" }, "remotion-lambda")).toBeUndefined();
  });
  it("shows sub-cent amounts", () => {
    expect(formatUsd(0.24)).toBe("$0.2400");
    expect(formatUsd(0.000123)).toBe("$0.000123");
    expect(formatUsd(0)).toBe("$0.00");
  });
});

describe("ltxCost for the offline generator", () => {
  it("never fails on the generator's own model name: nothing is paid", () => {
    const line = ltxCost({ provider: "offline", model: "ffmpeg-offline", seconds: 6, width: 1080, height: 1920 });
    expect(line).toMatchObject({ item: "ltx-generation", usd: 0, quantity: 6 });
    expect(line.basis).toBe("6 s by the offline generator (FFmpeg): nothing paid");
    expect(() => ltxCost({ provider: "ltx", model: "ffmpeg-offline", seconds: 6, width: 1080, height: 1920 })).toThrow(UnpricedError);
  });
});
