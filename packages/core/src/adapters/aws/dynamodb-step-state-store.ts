import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { StepStateStore } from "../../ports";
import { assertStateName } from "../../jobs/errors";
import { JOBS_TABLE_TTL_ATTRIBUTE, jobPk, stateSk } from "./dynamodb-table";

export interface DynamoStepStateStoreOptions {
  table: string;
  /** When set, items carry `expiresAt` (epoch seconds) and DynamoDB's TTL deletes them. */
  ttlSeconds?: number;
  /** For the TTL; defaults to the system clock. */
  now?: () => Date;
}

/**
 * Step state items in the jobs table (pk JOB#<jobId>, sk STATE#<name>). The value's fields are
 * stored as top-level attributes prefixed "v_", so update() is one atomic UpdateItem that sets
 * only the fields given (concurrent updates of different fields both survive) and also creates
 * the item when absent.
 */
export function createDynamoStepStateStore(client: DynamoDBDocumentClient, opts: DynamoStepStateStoreOptions): StepStateStore {
  const { table } = opts;
  const now = opts.now ?? (() => new Date());
  const key = (jobId: string, name: string) => {
    assertStateName(name);
    return { pk: jobPk(jobId), sk: stateSk(name) };
  };
  const expiry = () => (opts.ttlSeconds ? { [JOBS_TABLE_TTL_ATTRIBUTE]: Math.floor(now().getTime() / 1000) + opts.ttlSeconds } : {});
  const toValue = (item: Record<string, unknown>) => {
    const value: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item)) if (k.startsWith("v_")) value[k.slice(2)] = v;
    return value;
  };
  const fromValue = (value: Record<string, unknown>) => {
    const attrs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) attrs[`v_${k}`] = v;
    return attrs;
  };
  const get = async (jobId: string, name: string) => {
    const res = await client.send(new GetCommand({ TableName: table, Key: key(jobId, name), ConsistentRead: true }));
    return res.Item ? toValue(res.Item) : undefined;
  };

  const putIfAbsent: StepStateStore["putIfAbsent"] = async (jobId, name, value) => {
    const k = key(jobId, name);
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...k, ...fromValue(value), updatedAt: now().toISOString(), ...expiry() },
          ConditionExpression: "attribute_not_exists(pk)",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { created: true, value: structuredClone(value) };
    } catch (err) {
      const isCcf = err instanceof ConditionalCheckFailedException || (err as { name?: string } | null)?.name === "ConditionalCheckFailedException";
      if (!isCcf) throw err;
      const old = (err as { Item?: Parameters<typeof unmarshall>[0] }).Item;
      const stored = old ? toValue(unmarshall(old)) : await get(jobId, name);
      // Absent again only if it expired or was deleted between the two calls: try once more.
      if (!stored) return putIfAbsent(jobId, name, value);
      return { created: false, value: stored };
    }
  };

  return {
    get,
    putIfAbsent,
    async update(jobId, name, value) {
      const attrs = { ...fromValue(value), updatedAt: now().toISOString(), ...expiry() };
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets = Object.entries(attrs).map(([k, v], i) => {
        names[`#a${i}`] = k;
        values[`:v${i}`] = v;
        return `#a${i} = :v${i}`;
      });
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: key(jobId, name),
          UpdateExpression: `SET ${sets.join(", ")}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    },
  };
}
