/**
 * `reelbridge job <jobId>` shows a re-rendered job's versions (issue #13 item 6): from the
 * stopped data dir's job record, here with a record written to the data dir's DynamoDB files
 * exactly as the DB writer stores it, and read back by the command as a user would run it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createDynamoJobStore } from "@reelbridge/core/adapters/aws/dynamodb-job-store";
import type { AnyPipelineEvent } from "@reelbridge/core/jobs/reducer";
import completed from "@reelbridge/events/samples/v1/RenderCompleted.json";
import requested from "@reelbridge/events/samples/v1/RenderRequested.json";
import { LOCAL_JOBS_TABLE, createJobsTable, startLocalDynamo } from "../../../src/dynamo/index";
import { formatReport, jobReport, main } from "../../../src/commands/job";

const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-job-versions-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("reelbridge job: versions", () => {
  it("lists each render version with its status, title, music and aspect, 1 first; --json carries them", async () => {
    const jobId = completed.detail.metadata.jobId;
    // Version 1 completed, version 2 requested with a new title: applied as the DB writer does.
    const dynamo = await startLocalDynamo({ dataDir });
    let record;
    try {
      await createJobsTable(dynamo.client, LOCAL_JOBS_TABLE);
      const store = createDynamoJobStore(dynamo.doc, { table: LOCAL_JOBS_TABLE });
      for (const e of [completed, requested]) await store.apply(e as unknown as AnyPipelineEvent);
      record = (await store.get(jobId))!;
    } finally {
      await dynamo.close();
    }
    expect(record.versions?.map((v) => v.version)).toEqual([1, 2]);

    const report = await jobReport(dataDir, jobId);
    expect(report.source).toBe("data-dir");
    expect(report.versions?.map((v) => [v.version, v.status, v.title])).toEqual(record.versions!.map((v) => [v.version, v.status, v.params.title]));
    const text = formatReport(report);
    const v2title = (requested.detail.data as { job: { title: string } }).job.title;
    expect(text).toMatch(new RegExp(`versions:\\n  v1 +${record.versions![0]!.status} +"`));
    expect(text).toContain(`v2   ${record.versions![1]!.status.padEnd(10)} ${JSON.stringify(v2title)}`);

    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
      out.push(String(c));
      return true;
    });
    let code: number;
    try {
      code = await main([jobId, "--data-dir", dataDir, "--json"]);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    expect((JSON.parse(out.join("")) as { versions: Array<{ version: number }> }).versions.map((v) => v.version)).toEqual([1, 2]);
  }, 60_000);
});
