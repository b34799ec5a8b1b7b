import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { jobCostSchema } from "@reelbridge/events";
import { formatUsd } from "@reelbridge/core/jobs/cost";
import { runJob } from "../../../src/commands/run";
import type { RunResult } from "../../../src/commands/run";
import { startRuntime } from "../../../src/runtime/runtime";

/**
 * Issue #13 items 1, 2 and 6 as a user meets them: `reelbridge run` shows the quote and what the
 * job cost, `--json` carries both, `reelbridge job` shows the cost, `--max-cost` refuses a job
 * over it before anything is uploaded or paid, and a failed job shows what it cost.
 */

const exec = promisify(execFile);
const root = new URL("../../../../../", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "reelbridge-run-cost-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function reelbridge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec("pnpm", ["--silent", "reelbridge", ...args], { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 280_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("reelbridge run shows what the job cost", () => {
  it("prints the quote, then the cost line by line; `reelbridge job` shows the same cost from the stopped data dir", async () => {
    const dataDir = join(scratch, "completed");
    const r = await reelbridge(["run", "--scale", "0.25", "--duration", "2", "--max-cost", "1", "--data-dir", dataDir]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/quote \$0\.000\d+ \(within --max-cost \$1\.0000\)/);
    const costLine = /^ {2}cost {11}(\$[0-9.]+).*quoted \$0\.000\d+$/m.exec(r.stdout);
    expect(costLine, r.stdout).not.toBeNull();
    // Each line with its amount and basis: the render (local: nothing paid) and the bus events.
    expect(r.stdout).toMatch(/remotion-render\s+Remotion's estimate for the render \(remotion-local\)/);
    expect(r.stdout).toMatch(/eventbridge\s+\d+ pipeline events \(.*SegmentsReady.*\) × \$1\.00 per million events/);

    const jobId = /✓ job ([0-9A-Z]{26}) completed/.exec(r.stdout)![1]!;
    const report = await reelbridge(["job", jobId, "--data-dir", dataDir, "--json"]);
    expect(report.code, report.stderr).toBe(0);
    const cost = jobCostSchema.parse((JSON.parse(report.stdout) as { cost: unknown }).cost);
    expect(formatUsd(cost.totalUsd)).toBe(costLine![1]);
    expect(cost.lines.find((l) => l.item === "eventbridge")!.quantity).toBeGreaterThanOrEqual(6);
    // Our Lambdas, measured per invocation by the handler wrapper: each step's GB-s on the event that ends it.
    expect(cost.lines.map((l) => l.item)).toEqual(expect.arrayContaining(["lambda:ltx-step", "lambda:render-step", "lambda:segmenter", "lambda:notifier"]));
    for (const l of cost.lines.filter((x) => x.item.startsWith("lambda:"))) expect(l).toMatchObject({ unit: "GB-s", quantity: expect.any(Number) });
    expect(r.stdout).toMatch(/lambda:segmenter\s+[0-9.]+ GB-s \(segmenter, 1 invocation, x86_64\)/);
    // The functions that end no step with an event of their own are counted too (measured the same way):
    // the upload API's invocation, signed into the job's parameters, and the DB writer's, one per event it recorded.
    expect(cost.lines.map((l) => l.item)).toEqual(expect.arrayContaining(["lambda:upload-api", "lambda:db-writer"]));
    expect(r.stdout).toMatch(/lambda:upload-api\s+[0-9.]+ GB-s \(upload-api, 1 invocation, arm64\)/);
    const dbWriter = cost.lines.find((l) => l.item === "lambda:db-writer")!;
    const events = cost.lines.find((l) => l.item === "eventbridge")!.quantity;
    // At least one measured invocation per recorded event (a redelivery is one more).
    expect(Number(/(\d+) invocations/.exec(dbWriter.basis)?.[1])).toBeGreaterThanOrEqual(events);
    expect(dbWriter.usd).toBeGreaterThan(0);
    // The services around the steps, one line each, from the record's counts (cost-ledger.ts).
    const item = (name: string) => cost.lines.find((l) => l.item === name);
    // Every object the job stored, counted: upload, image, base clip, final video, HLS playlist and segments, clip, poster.
    expect(item("s3:put")).toMatchObject({ unit: "request", quantity: expect.any(Number) });
    expect(item("s3:put")!.quantity).toBeGreaterThanOrEqual(8);
    expect(item("s3:put")!.estimated).toBeUndefined();
    expect(r.stdout).toMatch(/s3:put\s+\d+ objects stored, counted from the keys/);
    expect(item("s3:get")).toMatchObject({ quantity: 3, estimated: true });
    // Each event's queued deliveries (send, receive, delete) and the LTX step's further looks.
    expect(item("sqs")!.estimated).toBe(true);
    expect(item("sqs")!.quantity).toBeGreaterThanOrEqual(3 * (events + 1));
    expect(r.stdout).toMatch(/~\s+\$[0-9.]+\s+sqs\s+\d+ requests estimated from the record's counts/);
    // One write per recorded event and per invocation written onto the record.
    expect(item("dynamodb:write")!.quantity).toBeGreaterThanOrEqual(events);
    for (const name of ["sqs", "s3:put", "s3:get", "dynamodb:write"]) expect(item(name)!.usd, name).toBeGreaterThan(0);
    const text = await reelbridge(["job", jobId, "--data-dir", dataDir]);
    expect(text.stdout).toMatch(/^ {2}cost +\$/m);
  });

  it("--max-cost under the quote refuses the job before anything is uploaded or paid; --json says so", async () => {
    const dataDir = join(scratch, "refused");
    const r = await reelbridge(["run", "--max-cost", "0.0001", "--data-dir", dataDir, "--json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as RunResult;
    expect(out.status).toBe("refused");
    expect(out.failure).toMatchObject({ code: "BudgetExceeded" });
    expect(out.failure!.message).toMatch(/over the \$0\.000100 the request allows/);
    expect(jobCostSchema.parse(out.quote).totalUsd).toBeGreaterThan(0.0001);
    expect(out.steps).toEqual([]);
    // Nothing reached storage: no uploads/ folder, no job folder.
    const bucket = join(dataDir, "blobs", "reelbridge-local-media");
    expect(existsSync(join(bucket, "uploads")) ? readdirSync(join(bucket, "uploads")) : []).toEqual([]);
    expect(existsSync(join(bucket, "jobs")) ? readdirSync(join(bucket, "jobs")) : []).toEqual([]);
  });

  it("a failed job shows what it cost", async () => {
    const dataDir = join(scratch, "failed");
    const notAnImage = join(scratch, "not-a-photo.jpg");
    writeFileSync(notAnImage, "this is not an image, whatever its name says\n");
    const rt = await startRuntime({ dataDir, logSink: () => undefined });
    try {
      const r = await runJob(rt, { image: notAnImage, title: "Nope", subtitle: "", cameraPrompt: "static", aspect: "9:16", durationSeconds: 2, timeoutMs: 120_000 });
      expect(r.status).toBe("failed");
      expect(r.failure?.code).toBe("InvalidImage");
      expect(r.quote!.totalUsd).toBeGreaterThan(0);
      expect(r.cost).toBeDefined();
      expect(r.cost).toEqual(r.record!.cost);
      expect(r.cost!.lines.find((l) => l.item === "eventbridge")?.basis).toContain("VideoBaseFailed");
      // The LTX step's Lambda time for validating the photo is what the failed job cost.
      expect(r.cost!.lines.find((l) => l.item === "lambda:ltx-step")?.usd).toBeGreaterThan(0);
      // The upload API that issued it and the DB writer that recorded its failure were paid for too.
      expect(r.cost!.lines.find((l) => l.item === "lambda:upload-api")?.usd).toBeGreaterThan(0);
      expect(r.cost!.lines.find((l) => l.item === "lambda:db-writer")?.usd).toBeGreaterThan(0);
      // The photo was stored (and read) although it never became a clip.
      expect(r.cost!.lines.find((l) => l.item === "s3:put")?.quantity).toBe(1);
      expect(r.cost!.lines.find((l) => l.item === "sqs")?.usd).toBeGreaterThan(0);
      expect(r.cost!.totalUsd).toBeGreaterThan(0);
    } finally {
      await rt.close();
    }
  });
});
