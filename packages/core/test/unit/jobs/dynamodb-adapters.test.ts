import { afterEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { createDynamoJobStore } from "../../../src/adapters/aws/dynamodb-job-store";
import { createDynamoStepStateStore } from "../../../src/adapters/aws/dynamodb-step-state-store";
import { TransientError } from "../../../src/errors";
import { InvalidCursorError, InvalidStateNameError, applyEvent, encodeCursor } from "../../../src/jobs";
import { sample } from "./fixtures";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } }));
// The mock's own types disagree with this SDK version's middleware stack: a narrow view of it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Input = any;
interface Chain {
  resolves(output: unknown): Chain;
  rejects(err: unknown): Chain;
  rejectsOnce(err: unknown): Chain;
}
interface Stub {
  on(command: unknown): Chain;
  commandCalls(command: unknown): Array<{ args: [{ input: Input }] }>;
  reset(): void;
}
const ddb = mockClient(doc as never) as unknown as Stub;
afterEach(() => ddb.reset());

const conflict = (item?: Record<string, unknown>) =>
  Object.assign(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }), item ? { Item: marshall(item, { removeUndefinedValues: true }) } : {});

describe("DynamoDB job store (SDK mocked)", () => {
  it("creates a new job with a conditional put, keyed for the owner index", async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    const store = createDynamoJobStore(doc, { table: "jobs" });
    const { applied, record } = await store.apply(sample("VideoBaseReady"));
    expect(applied).toBe(true);
    expect(record.status).toBe("generated");
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({ Key: { pk: `JOB#${JOB}`, sk: "JOB" }, ConsistentRead: true });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe("attribute_not_exists(pk)");
    expect(put.Item).toMatchObject({ pk: `JOB#${JOB}`, sk: "JOB", gsi1pk: "OWNER#user_2f9a", gsi1sk: `2026-11-20T10:00:00.000Z#${JOB}`, version: 1, status: "generated" });
  });

  it("on a conflict merges onto the item that won (ALL_OLD) and writes on its version", async () => {
    const theirs = applyEvent(undefined, sample("RenderCompleted")).state;
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).rejectsOnce(conflict({ ...theirs, pk: `JOB#${JOB}`, sk: "JOB", version: 4 })).resolves({});
    const store = createDynamoJobStore(doc, { table: "jobs", backoffMs: () => 0 });
    const { record } = await store.apply(sample("SegmentsReady"));
    expect(record.status).toBe("completed");
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
    const second = ddb.commandCalls(PutCommand)[1]!.args[0].input;
    expect(second.ConditionExpression).toBe("version = :expected");
    expect(second.ExpressionAttributeValues).toEqual({ ":expected": 4 });
    expect(second.Item?.version).toBe(5);
    expect(second.Item?.timeline.map((t: { type: string }) => t.type)).toEqual(["RenderCompleted", "SegmentsReady"]);
  });

  it("re-reads when the conflict carries no item, and gives up with a TransientError after maxAttempts", async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).rejects(conflict());
    const waits: number[] = [];
    const store = createDynamoJobStore(doc, { table: "jobs", maxAttempts: 3, backoffMs: (a) => (waits.push(a), 0) });
    await expect(store.apply(sample("VideoBaseReady"))).rejects.toBeInstanceOf(TransientError);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(3);
    expect(waits).toEqual([0, 1]);
  });

  it("writes nothing for a duplicate already in the record", async () => {
    const stored = applyEvent(undefined, sample("VideoBaseReady")).state;
    ddb.on(GetCommand).resolves({ Item: { ...stored, pk: `JOB#${JOB}`, sk: "JOB", version: 1 } });
    const store = createDynamoJobStore(doc, { table: "jobs" });
    expect((await store.apply(sample("VideoBaseReady"))).applied).toBe(false);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it("lists newest first on the owner index with an opaque cursor bound to the owner", async () => {
    const stored = applyEvent(undefined, sample("VideoBaseReady")).state;
    const lastKey = { pk: `JOB#${JOB}`, sk: "JOB", gsi1pk: "OWNER#user_2f9a", gsi1sk: `x#${JOB}` };
    ddb.on(QueryCommand).resolves({ Items: [{ ...stored, ...lastKey, version: 1 }], LastEvaluatedKey: lastKey });
    const store = createDynamoJobStore(doc, { table: "jobs" });
    const page = await store.listByOwner("user_2f9a", { limit: 1 });
    expect(page.items.map((j) => j.jobId)).toEqual([JOB]);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({ IndexName: "byOwner", ScanIndexForward: false, Limit: 1 });
    await store.listByOwner("user_2f9a", { limit: 1, cursor: page.cursor! });
    expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual(lastKey);
    await expect(store.listByOwner("mallory", { limit: 1, cursor: page.cursor! })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.listByOwner("user_2f9a", { limit: 1, cursor: encodeCursor({ ...lastKey, extra: "x" }) })).rejects.toBeInstanceOf(InvalidCursorError);
  });
});

describe("DynamoDB step state store (SDK mocked)", () => {
  it("putIfAbsent returns the stored value from the conditional failure without another read", async () => {
    ddb.on(PutCommand).rejects(conflict({ pk: `JOB#${JOB}`, sk: "STATE#render", v_renderId: "r-1", updatedAt: "t" }));
    const steps = createDynamoStepStateStore(doc, { table: "jobs" });
    expect(await steps.putIfAbsent(JOB, "render", { renderId: "r-2" })).toEqual({ created: false, value: { renderId: "r-1" } });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({ ConditionExpression: "attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure: "ALL_OLD" });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it("update sets only the given fields, with the TTL when configured", async () => {
    ddb.on(UpdateCommand).resolves({});
    const steps = createDynamoStepStateStore(doc, { table: "jobs", ttlSeconds: 60, now: () => new Date("2026-11-20T10:00:00.000Z") });
    await steps.update(JOB, "notify:msg_1", { attempts: 2 });
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.Key).toEqual({ pk: `JOB#${JOB}`, sk: "STATE#notify:msg_1" });
    expect(input.UpdateExpression).toBe("SET #a0 = :v0, #a1 = :v1, #a2 = :v2");
    expect(Object.values(input.ExpressionAttributeNames!)).toEqual(["v_attempts", "updatedAt", "expiresAt"]);
    expect(input.ExpressionAttributeValues![":v2"]).toBe(Date.parse("2026-11-20T10:00:00.000Z") / 1000 + 60);
  });

  it("refuses empty, overlong or control-character names", async () => {
    const steps = createDynamoStepStateStore(doc, { table: "jobs" });
    for (const name of ["", "x".repeat(201), "a\nb"]) await expect(steps.get(JOB, name)).rejects.toBeInstanceOf(InvalidStateNameError);
  });
});
