import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoBudgetStore } from "@reelbridge/core/adapters/aws/dynamodb-budget-store";
import { quoteJob } from "@reelbridge/core/jobs/cost";
import { openCaller } from "@reelbridge/core/upload/auth";
import type { UploadSigner } from "@reelbridge/core/upload/ports";
import { budgetExceededBodySchema, uploadResponseSchema } from "@reelbridge/events/http";
import { createHandler } from "@reelbridge/functions/upload-api";
import type { Deps } from "@reelbridge/functions/upload-api";
import { MUSIC_IDS } from "@reelbridge/remotion/music";
import { createJobsTable, startLocalDynamo } from "../../../src/dynamo";
import type { LocalDynamo } from "../../../src/dynamo";

// The per-owner daily cap rests on one conditional UpdateItem (ADD under a condition): checked
// here against the emulator the local runtime uses, through the production adapter and the
// upload API's own handler, with every upload sent at once.

process.env.LOG_LEVEL = "SILENT";
const table = "jobs";
let dynamo: LocalDynamo;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reelbridge-budget-race-"));
  dynamo = await startLocalDynamo({ dataDir: dir });
  await createJobsTable(dynamo.client, table);
});
afterAll(async () => {
  await dynamo?.close();
  rmSync(dir, { recursive: true, force: true });
});

const QUOTE = { ltx: { provider: "ltx", model: "ltx-2-fast" }, renderer: "remotion-lambda" } as const;
const body = { title: "Lisbon", subtitle: "", cameraPrompt: "slow dolly in", music: MUSIC_IDS[0], aspect: "9:16", durationSeconds: 6, contentType: "image/jpeg" };
const ONE = quoteJob({ aspect: "9:16", durationSeconds: 6 }, QUOTE).totalUsd;

const signer: UploadSigner = {
  async createPresignedPost(req) {
    // Let the other requests interleave between the reservation and the answer.
    await new Promise((r) => setTimeout(r, Math.random() * 5));
    return { url: "http://127.0.0.1:1/", fields: { key: req.key }, expiresAt: new Date(Date.now() + 600_000).toISOString() };
  },
};

let n = 0;
const deps = (perOwnerPerDayUsd: number): Deps => ({
  signer,
  caller: openCaller,
  clock: { now: () => new Date("2026-12-02T12:00:00.000Z") },
  newJobId: () => `01JE0000000000000000${String(n++).padStart(6, "0")}`,
  musicIds: MUSIC_IDS,
  maxBytes: 1024 * 1024,
  expiresInSeconds: 600,
  webOrigins: ["http://localhost:5173"],
  quote: QUOTE,
  budget: { limits: { perOwnerPerDayUsd }, store: createDynamoBudgetStore(dynamo.doc, { table }) },
});

const post = (handler: ReturnType<typeof createHandler>) =>
  (handler(
    {
      version: "2.0",
      routeKey: "$default",
      rawPath: "/uploads",
      rawQueryString: "",
      headers: { "content-type": "application/json" },
      requestContext: { http: { method: "POST", path: "/uploads", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" } } as APIGatewayProxyEventV2["requestContext"],
      body: JSON.stringify(body),
      isBase64Encoded: false,
    },
    {} as Context,
  ) as Promise<APIGatewayProxyStructuredResultV2>).then((r) => ({ status: r.statusCode, body: JSON.parse(r.body as string) as unknown }));

describe("the owner's daily cap under concurrent uploads (dynalite)", () => {
  it("24 uploads at once against a cap that fits 7 admit exactly 7, and the day's spend is theirs", async () => {
    const cap = ONE * 7.5;
    const d = deps(cap);
    const handler = createHandler(async () => d);
    const answers = await Promise.all(Array.from({ length: 24 }, () => post(handler)));
    const admitted = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 402);
    expect(admitted).toHaveLength(7);
    expect(refused).toHaveLength(17);
    for (const a of admitted) expect(uploadResponseSchema.parse(a.body).quote.totalUsd).toBe(ONE);
    for (const r of refused) {
      const b = budgetExceededBodySchema.parse(r.body);
      expect(b.limit).toMatchObject({ kind: "perOwnerPerDay", day: "2026-12-02" });
      // What DynamoDB saw when it refused: never over the cap, and too full for one more.
      expect(b.limit.spentUsd!).toBeLessThanOrEqual(cap);
      expect(b.limit.spentUsd! + ONE).toBeGreaterThan(cap);
    }
    const spent = await d.budget!.store!.spent({ owner: "anonymous", day: "2026-12-02" });
    expect(spent).toBeCloseTo(ONE * 7, 9);
  });

  it("reservations of different sizes never take the day over its cap", async () => {
    const store = createDynamoBudgetStore(dynamo.doc, { table });
    const sizes = Array.from({ length: 40 }, (_, i) => 0.05 + (i % 7) * 0.03);
    const results = await Promise.all(sizes.map((usd) => store.reserve({ owner: "sizes", day: "2026-12-03", usd, limitUsd: 2 })));
    const admitted = sizes.filter((_, i) => results[i]!.reserved);
    const sum = admitted.reduce((a, b) => a + Math.round(b * 1e9), 0) / 1e9;
    expect(await store.spent({ owner: "sizes", day: "2026-12-03" })).toBeCloseTo(sum, 9);
    expect(sum).toBeLessThanOrEqual(2);
    // Spend only grows, so every refusal is still right at the end: none of them fits.
    const refused = sizes.filter((_, i) => !results[i]!.reserved);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(sum + r).toBeGreaterThan(2);
    // A day and an owner of their own.
    expect(await store.spent({ owner: "sizes", day: "2026-12-04" })).toBe(0);
    await store.release({ owner: "sizes", day: "2026-12-03", usd: admitted[0]! });
    expect(await store.spent({ owner: "sizes", day: "2026-12-03" })).toBeCloseTo(sum - admitted[0]!, 9);
  });
});
