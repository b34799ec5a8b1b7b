import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { BudgetStore } from "../../jobs/budget";
import { fromNanoUsd, toNanoUsd } from "../../jobs/budget";
import { JOBS_TABLE_TTL_ATTRIBUTE, budgetPk, budgetSk } from "./dynamodb-table";

export interface DynamoBudgetStoreOptions {
  table: string;
  /** Days a day's item is kept after that day (DynamoDB's TTL deletes it); default 7. */
  keepDays?: number;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

const isConditionalFailure = (err: unknown): err is ConditionalCheckFailedException & { Item?: Record<string, unknown> } =>
  err instanceof ConditionalCheckFailedException || (err as { name?: string } | null)?.name === "ConditionalCheckFailedException";

/**
 * The owners' daily spend in the jobs table (pk BUDGET#<owner>, sk DAY#<day>; dynamodb-table.ts).
 * `reserve` is ONE UpdateItem: `ADD spentNanoUsd :n` under the condition that the item is absent
 * or its spend is at most `limit - n`, so concurrent reservations serialise in DynamoDB and the
 * day never goes over the cap. A refusal returns the spend DynamoDB saw (ALL_OLD).
 */
export function createDynamoBudgetStore(client: DynamoDBDocumentClient, opts: DynamoBudgetStoreOptions): BudgetStore {
  const { table } = opts;
  const keepDays = opts.keepDays ?? 7;
  const key = (owner: string, day: string) => {
    if (!DAY_RE.test(day)) throw new RangeError(`budget day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
    if (owner.length === 0) throw new RangeError("budget owner must not be empty");
    return { pk: budgetPk(owner), sk: budgetSk(day) };
  };
  const expiry = (day: string) => Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + (keepDays + 1) * 86_400;

  const spent: BudgetStore["spent"] = async ({ owner, day }) => {
    const res = await client.send(new GetCommand({ TableName: table, Key: key(owner, day), ConsistentRead: true }));
    return fromNanoUsd(Number(res.Item?.spentNanoUsd ?? 0));
  };

  return {
    spent,
    async reserve({ owner, day, usd, limitUsd }) {
      const n = toNanoUsd(usd);
      if (!(n >= 0)) throw new RangeError(`cannot reserve ${usd} USD`);
      const room = toNanoUsd(limitUsd) - n;
      if (room < 0) return { reserved: false, spentUsd: await spent({ owner, day }) };
      try {
        const res = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: key(owner, day),
            UpdateExpression: "ADD spentNanoUsd :n SET #ttl = :ttl, updatedAt = :now",
            ConditionExpression: "attribute_not_exists(spentNanoUsd) OR spentNanoUsd <= :room",
            ExpressionAttributeNames: { "#ttl": JOBS_TABLE_TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ":n": n, ":room": room, ":ttl": expiry(day), ":now": new Date().toISOString() },
            ReturnValues: "UPDATED_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        return { reserved: true, spentUsd: fromNanoUsd(Number(res.Attributes?.spentNanoUsd ?? n)) };
      } catch (err) {
        if (!isConditionalFailure(err)) throw err;
        const old = err.Item ? unmarshall(err.Item as Parameters<typeof unmarshall>[0]) : undefined;
        const found = old?.spentNanoUsd !== undefined ? fromNanoUsd(Number(old.spentNanoUsd)) : await spent({ owner, day });
        return { reserved: false, spentUsd: found };
      }
    },
    async release({ owner, day, usd }) {
      const n = toNanoUsd(usd);
      if (!(n > 0)) return;
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: key(owner, day),
            UpdateExpression: "ADD spentNanoUsd :neg",
            // Never below zero, never creating an item.
            ConditionExpression: "spentNanoUsd >= :n",
            ExpressionAttributeValues: { ":neg": -n, ":n": n },
          }),
        );
      } catch (err) {
        if (!isConditionalFailure(err)) throw err;
      }
    },
  };
}
