import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { JobStore } from "../../ports";
import { TransientError } from "../../errors";
import { applyEvent, applyInvocations, toJobRecord } from "../../jobs/reducer";
import type { OwnInvocation } from "../../jobs/cost-ledger";
import type { AnyPipelineEvent, JobState } from "../../jobs/reducer";
import { InvalidCursorError, decodeCursor, encodeCursor } from "../../jobs/errors";
import { createJobLedger } from "../../jobs/ledger";
import { createDynamoStepStateStore } from "./dynamodb-step-state-store";
import { JOBS_TABLE_KEYS, JOB_RECORD_SK, jobPk, ownerPk, ownerSk } from "./dynamodb-table";
import { backoffMs } from "../../backoff";

export interface DynamoJobStoreOptions {
  table: string;
  /** Read-merge-write attempts before giving up with a TransientError (the platform retries). */
  maxAttempts?: number;
  /** Wait before attempt n+1 after a write conflict (tests inject 0). */
  backoffMs?: (attempt: number) => number;
}

/** Item attributes that are not part of the job state. */
interface ItemMeta {
  pk: string;
  sk: string;
  gsi1pk?: string;
  gsi1sk?: string;
  version: number;
}
type JobItem = ItemMeta & JobState;

// Write conflicts: 20 ms, 40 ms … up to 500 ms (attempt is 0-based here).
const defaultBackoff = (attempt: number) => backoffMs(attempt + 1, { baseMs: 20, maxMs: 500 });

const isConditionalFailure = (err: unknown): err is ConditionalCheckFailedException & { Item?: Record<string, unknown> } =>
  err instanceof ConditionalCheckFailedException || (err as { name?: string } | null)?.name === "ConditionalCheckFailedException";

function toState(item: Record<string, unknown>): { state: JobState; version: number } {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, version, ...state } = item as unknown as JobItem;
  return { state: state as JobState, version: Number(version) };
}

/**
 * The job record in DynamoDB (dynamodb-table.ts for the layout). apply() is optimistic
 * concurrency over the pure reducer: consistent read → reduce → Put conditioned on the version
 * read (or on absence) → on conflict, merge again onto what won. A duplicate already in the
 * record's recent eventIds costs one read and no write.
 */
export function createDynamoJobStore(client: DynamoDBDocumentClient, opts: DynamoJobStoreOptions): JobStore {
  const { table } = opts;
  const maxAttempts = opts.maxAttempts ?? 10;
  const backoffMs = opts.backoffMs ?? defaultBackoff;
  const { ownerIndex } = JOBS_TABLE_KEYS;

  const read = async (jobId: string) => {
    const res = await client.send(new GetCommand({ TableName: table, Key: { pk: jobPk(jobId), sk: JOB_RECORD_SK }, ConsistentRead: true }));
    return res.Item ? toState(res.Item) : undefined;
  };

  return {
    // The steps' ledger records live in the same table (dynamodb-table.ts).
    ledger: createJobLedger(createDynamoStepStateStore(client, { table })),
    async apply(event: AnyPipelineEvent, opts?: { invocations?: Record<string, OwnInvocation> }) {
      const jobId = event.detail.metadata.jobId;
      // What the last conditional failure returned (ALL_OLD), saving a read; undefined = read.
      let known: { state: JobState; version: number } | null | undefined;
      for (let attempt = 0; attempt < maxAttempts; attempt++) {
        const current = known === undefined ? await read(jobId) : (known ?? undefined);
        known = undefined;
        const { applied, state } = applyEvent(current?.state, event, opts?.invocations);
        if (!applied) return { applied, record: toJobRecord(state) };
        const version = current?.version ?? 0;
        // Plain JSON: no undefined values for the marshaller, nothing but data.
        const item: Record<string, unknown> = {
          ...(JSON.parse(JSON.stringify(state)) as JobState),
          pk: jobPk(jobId),
          sk: JOB_RECORD_SK,
          version: version + 1,
        };
        // Sparse index: a job with no known owner yet is not listed.
        if (state.owner) {
          item[ownerIndex.partitionKey] = ownerPk(state.owner);
          item[ownerIndex.sortKey] = ownerSk(state.createdAt, jobId);
        }
        try {
          await client.send(
            new PutCommand({
              TableName: table,
              Item: item,
              ...(current
                ? { ConditionExpression: "version = :expected", ExpressionAttributeValues: { ":expected": version } }
                : { ConditionExpression: "attribute_not_exists(pk)" }),
              ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            }),
          );
          return { applied: true, record: toJobRecord(state) };
        } catch (err) {
          if (!isConditionalFailure(err)) throw err;
          // Someone else wrote first: merge onto their version. The raw (marshalled) item
          // comes back when the service supports ALL_OLD; otherwise read it again.
          known = err.Item ? toState(unmarshall(err.Item as Parameters<typeof unmarshall>[0])) : undefined;
          if (attempt + 1 < maxAttempts) {
            const wait = backoffMs(attempt);
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
        }
      }
      throw new TransientError(`job ${jobId}: the record kept changing under ${maxAttempts} attempts to apply ${event.detail.metadata.eventId}`);
    },

    async recordInvocations(jobId, invocations) {
      // The same optimistic read-merge-write as apply(), onto an existing record only.
      let known: { state: JobState; version: number } | undefined;
      for (let attempt = 0; attempt < maxAttempts; attempt++) {
        const current = known ?? (await read(jobId));
        known = undefined;
        if (!current) return { known: false, applied: false };
        const { applied, state } = applyInvocations(current.state, invocations);
        if (!applied) return { known: true, applied: false };
        const item: Record<string, unknown> = { ...(JSON.parse(JSON.stringify(state)) as JobState), pk: jobPk(jobId), sk: JOB_RECORD_SK, version: current.version + 1 };
        if (state.owner) {
          item[ownerIndex.partitionKey] = ownerPk(state.owner);
          item[ownerIndex.sortKey] = ownerSk(state.createdAt, jobId);
        }
        try {
          await client.send(
            new PutCommand({ TableName: table, Item: item, ConditionExpression: "version = :expected", ExpressionAttributeValues: { ":expected": current.version }, ReturnValuesOnConditionCheckFailure: "ALL_OLD" }),
          );
          return { known: true, applied: true };
        } catch (err) {
          if (!isConditionalFailure(err)) throw err;
          known = err.Item ? toState(unmarshall(err.Item as Parameters<typeof unmarshall>[0])) : undefined;
          if (attempt + 1 < maxAttempts) {
            const wait = backoffMs(attempt);
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
        }
      }
      throw new TransientError(`job ${jobId}: the record kept changing under ${maxAttempts} attempts to add measured invocations`);
    },

    async get(jobId) {
      const found = await read(jobId);
      return found ? toJobRecord(found.state) : undefined;
    },

    async listByOwner(owner, { limit, cursor }) {
      let start: Record<string, string> | undefined;
      if (cursor !== undefined) {
        const c = decodeCursor(cursor) as Record<string, unknown> | null;
        const keys = ["pk", "sk", ownerIndex.partitionKey, ownerIndex.sortKey];
        const ok =
          c !== null &&
          typeof c === "object" &&
          Object.keys(c).length === keys.length &&
          keys.every((k) => typeof c[k] === "string") &&
          c[ownerIndex.partitionKey] === ownerPk(owner);
        if (!ok) throw new InvalidCursorError();
        start = c as Record<string, string>;
      }
      const res = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: ownerIndex.name,
          KeyConditionExpression: "#pk = :owner",
          ExpressionAttributeNames: { "#pk": ownerIndex.partitionKey },
          ExpressionAttributeValues: { ":owner": ownerPk(owner) },
          ScanIndexForward: false,
          Limit: limit,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const items = (res.Items ?? []).map((i) => toJobRecord(toState(i).state));
      return res.LastEvaluatedKey ? { items, cursor: encodeCursor(res.LastEvaluatedKey) } : { items };
    },
  };
}
