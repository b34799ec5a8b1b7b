import { mkdtempSync, rmSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { JOBS_TABLE_KEYS } from "@reelbridge/core/adapters/aws/dynamodb-table";
import { createJobsTable, startLocalDynamo } from "../../../src/dynamo";
import type { LocalDynamo } from "../../../src/dynamo";

const dirs: string[] = [];
const open: LocalDynamo[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "reelbridge-dynamo-"));
  dirs.push(d);
  return d;
};
const start = async (dataDir: string) => {
  const d = await startLocalDynamo({ dataDir });
  open.push(d);
  return d;
};

describe("startLocalDynamo", () => {
  it("creates the jobs table with the owner index, idempotently", async () => {
    const d = await start(tmp());
    await createJobsTable(d.client, "jobs");
    await createJobsTable(d.client, "jobs");
    const { Table } = await d.client.send(new DescribeTableCommand({ TableName: "jobs" }));
    expect(Table?.TableStatus).toBe("ACTIVE");
    expect(Table?.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([JOBS_TABLE_KEYS.ownerIndex.name]);
  });

  it("keeps its data on disk across restarts", async () => {
    const dir = tmp();
    const first = await start(dir);
    await createJobsTable(first.client, "jobs");
    await first.doc.send(new PutCommand({ TableName: "jobs", Item: { pk: "JOB#1", sk: "JOB", title: "Café ☕" } }));
    await first.close();
    expect(existsSync(join(dir, "dynamo")) && readdirSync(join(dir, "dynamo")).length > 0).toBe(true);

    const second = await start(dir);
    await createJobsTable(second.client, "jobs");
    const { Item } = await second.doc.send(new GetCommand({ TableName: "jobs", Key: { pk: "JOB#1", sk: "JOB" } }));
    expect(Item?.title).toBe("Café ☕");
  });
});
