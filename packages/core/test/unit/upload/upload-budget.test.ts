import { describe, expect, it } from "vitest";
import { createUpload } from "../../../src/usecases/create-upload";
import type { CreateUploadDeps } from "../../../src/usecases/create-upload";
import { BudgetExceededError, budgetDay, checkBudgetBeforeGeneration, createMemoryBudgetStore, reserveBudget } from "../../../src/jobs/budget";
import { quoteJob } from "../../../src/jobs/cost";
import type { PresignedPostRequest, UploadSigner } from "../../../src/upload/ports";
import { MUSIC_IDS, goodRequest } from "./fixtures";

const QUOTE = { ltx: { provider: "ltx", model: "ltx-2-fast" } } as const;
/** The quote of a 9:16 request (the fixture's aspect): what each admitted upload reserves. */
const quoteOf = (req: { durationSeconds: number }) => quoteJob({ aspect: "9:16", durationSeconds: req.durationSeconds }, QUOTE).totalUsd;

function deps(over: Partial<CreateUploadDeps> = {}) {
  const calls: PresignedPostRequest[] = [];
  let n = 0;
  const signer: UploadSigner = {
    async createPresignedPost(req) {
      calls.push(req);
      return { url: "https://bucket.s3.amazonaws.com/", fields: { key: req.key }, expiresAt: "2026-11-20T10:10:00Z" };
    },
  };
  const d: CreateUploadDeps = {
    signer,
    clock: { now: () => new Date("2026-11-20T10:00:00.000Z") },
    newJobId: () => `01JD7X8Q2RZ4V6N3K5M9P1T0${String(n++).padStart(2, "0")}`,
    musicIds: MUSIC_IDS,
    maxBytes: 15 * 1024 * 1024,
    expiresInSeconds: 600,
    quote: QUOTE,
    ...over,
  };
  return { d, calls };
}

describe("POST /uploads quotes the job", () => {
  it("returns the quote for what was asked: the generation priced from its duration and aspect", async () => {
    const { d } = deps();
    const res = await createUpload(d, goodRequest(), { owner: "u1" });
    const gen = res.quote.lines.find((l) => l.item === "ltx-generation")!;
    expect(gen.quantity).toBe(goodRequest().durationSeconds);
    expect(gen.usd).toBeCloseTo(0.04 * goodRequest().durationSeconds, 9);
    expect(res.quote.totalUsd).toBe(quoteOf(goodRequest()));
    const longer = await createUpload(d, { ...goodRequest(), durationSeconds: 20 }, { owner: "u1" });
    expect(longer.quote.totalUsd).toBeGreaterThan(res.quote.totalUsd);
  });

  it("refuses a quote over the caller's maxCostUsd before signing anything", async () => {
    const { d, calls } = deps();
    const err = await createUpload(d, { ...goodRequest(), maxCostUsd: 0.01 }, { owner: "u1" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect((err as BudgetExceededError).decision).toMatchObject({ ok: false, limit: "maxCost", limitUsd: 0.01 });
    expect((err as BudgetExceededError).message).toMatch(/quoted at \$0\.\d+, over the \$0\.0100 the request allows/);
    expect(calls).toHaveLength(0);
    const ok = await createUpload(d, { ...goodRequest(), maxCostUsd: 5 }, { owner: "u1" });
    expect(ok.jobId).toBeTruthy();
  });

  it("refuses a job over the stage's per-job cap and reserves nothing for it", async () => {
    const store = createMemoryBudgetStore();
    const { d, calls } = deps({ budget: { limits: { perJobUsd: 0.5, perOwnerPerDayUsd: 10 }, store } });
    const err = await createUpload(d, { ...goodRequest(), durationSeconds: 20 }, { owner: "u1" }).catch((e: unknown) => e);
    expect((err as BudgetExceededError).decision).toMatchObject({ limit: "perJob", limitUsd: 0.5 });
    expect((err as BudgetExceededError).quote?.totalUsd).toBeGreaterThan(0.5);
    expect(calls).toHaveLength(0);
    expect(await store.spent({ owner: "u1", day: "2026-11-20" })).toBe(0);
  });

  it("reserves each admitted job against its owner's UTC day, and refuses the one that would cross the cap", async () => {
    const store = createMemoryBudgetStore();
    const one = quoteOf(goodRequest());
    const { d } = deps({ budget: { limits: { perOwnerPerDayUsd: one * 2.5 }, store } });
    await createUpload(d, goodRequest(), { owner: "u1" });
    await createUpload(d, goodRequest(), { owner: "u1" });
    const third = await createUpload(d, goodRequest(), { owner: "u1" }).catch((e: unknown) => e);
    expect((third as BudgetExceededError).decision).toMatchObject({ limit: "perOwnerPerDay", day: "2026-11-20" });
    expect((third as BudgetExceededError).decision.spentTodayUsd).toBeCloseTo(one * 2, 9);
    // Another owner has a day of their own.
    await expect(createUpload(d, goodRequest(), { owner: "u2" })).resolves.toMatchObject({ budget: { ok: true } });
    expect(await store.spent({ owner: "u1", day: "2026-11-20" })).toBeCloseTo(one * 2, 9);
  });

  it("gives the reservation back when the presigned POST cannot be issued", async () => {
    const store = createMemoryBudgetStore();
    const { d } = deps({
      budget: { limits: { perOwnerPerDayUsd: 5 }, store },
      signer: { createPresignedPost: async () => Promise.reject(new Error("KMS unavailable")) },
    });
    await expect(createUpload(d, goodRequest(), { owner: "u1" })).rejects.toThrow("KMS unavailable");
    expect(await store.spent({ owner: "u1", day: "2026-11-20" })).toBe(0);
  });
});

describe("the budget before generation", () => {
  it("fails a job when its owner's day was taken over the cap after its upload (e.g. the cap was lowered)", async () => {
    const store = createMemoryBudgetStore();
    await reserveBudget(store, { perOwnerPerDayUsd: 1 }, { owner: "u1", at: new Date("2026-11-20T23:59:00Z"), quoteUsd: 0.8 });
    const createdAt = "2026-11-20T23:59:00Z";
    expect(await checkBudgetBeforeGeneration(store, { perOwnerPerDayUsd: 1 }, { owner: "u1", createdAt, costUsd: 0.24 })).toMatchObject({ ok: true });
    const lowered = await checkBudgetBeforeGeneration(store, { perOwnerPerDayUsd: 0.5 }, { owner: "u1", createdAt, costUsd: 0.24 });
    expect(lowered).toMatchObject({ ok: false, limit: "perOwnerPerDay", day: "2026-11-20" });
    expect(await checkBudgetBeforeGeneration(store, { perJobUsd: 0.2 }, { owner: "u1", createdAt, costUsd: 0.24 })).toMatchObject({ ok: false, limit: "perJob" });
  });

  it("counts days in UTC", () => {
    expect(budgetDay("2026-11-20T23:59:59.999Z")).toBe("2026-11-20");
    expect(budgetDay("2026-11-21T00:30:00+02:00")).toBe("2026-11-20");
  });
});
