import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { createDynamoRenderIndex } from "../../../src/adapters/aws/dynamodb-render-index";

/** aws-sdk-client-mock's typings lag SDK 3.1162's @smithy/types (see s3-blob-store.test.ts): a narrow view of the stub. */
interface DocStub {
  on(command: unknown): { resolves(output: Record<string, unknown>): unknown; resolvesOnce(output: Record<string, unknown>): DocStubChain };
  commandCalls(command: unknown): Array<{ args: [{ input: Record<string, unknown> }] }>;
  reset(): void;
}
interface DocStubChain {
  resolvesOnce(output: Record<string, unknown>): DocStubChain;
}
const ddb = mockClient(DynamoDBDocumentClient as never) as unknown as DocStub;
afterEach(() => ddb.reset());
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } }));
const entry = { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AB", renderId: "8hfxlw7yoq", startedAt: "2026-11-20T10:01:41.000Z" };

describe("DynamoDB render index", () => {
  it("adds and removes entries under the in-flight partition, keyed by start time and job", async () => {
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    const index = createDynamoRenderIndex(doc, { table: "jobs" });
    await index.add(entry);
    await index.remove(entry);
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input).toEqual({
      TableName: "jobs",
      Item: { pk: "RENDERS#INFLIGHT", sk: "2026-11-20T10:01:41.000Z#01JD7X8Q2RZ4V6N3K5M9P1T0AB", ...entry, expiresAt: Date.parse(entry.startedAt) / 1000 + 7 * 86_400 },
    });
    expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input).toEqual({ TableName: "jobs", Key: { pk: "RENDERS#INFLIGHT", sk: "2026-11-20T10:01:41.000Z#01JD7X8Q2RZ4V6N3K5M9P1T0AB" } });
  });

  it("lists renders started before the cutoff with one query per page, up to the limit", async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ ...entry }], LastEvaluatedKey: { pk: "RENDERS#INFLIGHT", sk: "a" } })
      .resolvesOnce({ Items: [{ ...entry, jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AC", renderId: "r2" }, { ...entry, jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AD", renderId: "r3" }] });
    const index = createDynamoRenderIndex(doc, { table: "jobs" });
    const list = await index.listInFlight(new Date("2026-11-20T10:20:00.000Z"), { limit: 3 });
    expect(list.map((e) => e.renderId)).toEqual(["8hfxlw7yoq", "r2", "r3"]);
    const first = ddb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(first).toMatchObject({
      KeyConditionExpression: "#pk = :pk AND #sk < :cutoff",
      ExpressionAttributeValues: { ":pk": "RENDERS#INFLIGHT", ":cutoff": "2026-11-20T10:20:00.000Z" },
      Limit: 3,
      ScanIndexForward: true,
    });
    expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input).toMatchObject({ Limit: 2, ExclusiveStartKey: { pk: "RENDERS#INFLIGHT", sk: "a" } });
  });
});
