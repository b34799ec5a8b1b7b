import { afterEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { createDynamoJobStore } from "../../../src/adapters/aws/dynamodb-job-store";
import { applyEvent, applyInvocations } from "../../../src/jobs/reducer";
import { invocationKey } from "../../../src/jobs/cost-ledger";
import { sample } from "./fixtures";

/** The DynamoDB job store's recordInvocations (issue #13 item 1): onto an existing record only, optimistic like apply(). */

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } }));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Input = any;
interface Chain {
  resolves(output: unknown): Chain;
  rejectsOnce(err: unknown): Chain;
}
interface Stub {
  on(command: unknown): Chain;
  commandCalls(command: unknown): Array<{ args: [{ input: Input }] }>;
  reset(): void;
}
const ddb = mockClient(doc as never) as unknown as Stub;
afterEach(() => ddb.reset());

const inv = (id: string, ms = 20) => ({ [invocationKey("jobs-api", id)]: { fn: "jobs-api", ms, memoryMB: 256, arch: "arm64" as const } });
const item = (state: object, version: number) => ({ ...state, pk: `JOB#${JOB}`, sk: "JOB", version });

describe("DynamoDB job store: recordInvocations", () => {
  it("writes nothing, and creates nothing, for a job it has no record of", async () => {
    ddb.on(GetCommand).resolves({});
    const store = createDynamoJobStore(doc, { table: "jobs" });
    expect(await store.recordInvocations!(JOB, inv("r1"))).toEqual({ known: false, applied: false });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it("adds the invocation on the record's version, keeping the owner index keys", async () => {
    const stored = applyEvent(undefined, sample("VideoBaseReady")).state;
    ddb.on(GetCommand).resolves({ Item: item(stored, 3) });
    ddb.on(PutCommand).resolves({});
    const store = createDynamoJobStore(doc, { table: "jobs" });
    expect(await store.recordInvocations!(JOB, inv("r1"))).toEqual({ known: true, applied: true });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe("version = :expected");
    expect(put.ExpressionAttributeValues).toEqual({ ":expected": 3 });
    expect(put.Item).toMatchObject({ version: 4, gsi1pk: "OWNER#user_2f9a", invocations: inv("r1") });
  });

  it("writes nothing when the record has the invocation already", async () => {
    const stored = applyInvocations(applyEvent(undefined, sample("VideoBaseReady")).state, inv("r1")).state;
    ddb.on(GetCommand).resolves({ Item: item(stored, 2) });
    const store = createDynamoJobStore(doc, { table: "jobs" });
    expect(await store.recordInvocations!(JOB, inv("r1"))).toEqual({ known: true, applied: false });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it("on a conflict merges onto the item that won, so neither write's figures are lost", async () => {
    const stored = applyEvent(undefined, sample("VideoBaseReady")).state;
    const theirs = applyInvocations(stored, inv("other")).state;
    ddb.on(GetCommand).resolves({ Item: item(stored, 1) });
    const conflict = Object.assign(new ConditionalCheckFailedException({ message: "conditional request failed", $metadata: {} }), { Item: marshall(item(theirs, 2), { removeUndefinedValues: true }) });
    ddb.on(PutCommand).rejectsOnce(conflict).resolves({});
    const store = createDynamoJobStore(doc, { table: "jobs", backoffMs: () => 0 });
    expect(await store.recordInvocations!(JOB, inv("r1"))).toEqual({ known: true, applied: true });
    const second = ddb.commandCalls(PutCommand)[1]!.args[0].input;
    expect(second.ExpressionAttributeValues).toEqual({ ":expected": 2 });
    expect(Object.keys(second.Item.invocations).sort()).toEqual([invocationKey("jobs-api", "other"), invocationKey("jobs-api", "r1")].sort());
  });
});
