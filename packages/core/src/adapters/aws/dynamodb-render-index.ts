import { DeleteCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { InFlightRender, RenderIndex } from "../../render/ports";
import { JOBS_TABLE_KEYS, JOBS_TABLE_TTL_ATTRIBUTE } from "./dynamodb-table";

/**
 * The watchdog's index of in-flight renders, in the jobs table (dynamodb-table.ts) under one
 * well-known partition:
 *
 *   pk RENDERS#INFLIGHT   sk <startedAt ISO>#<jobId>   jobId, renderId, startedAt, expiresAt
 *
 * Listing "started before T" is then one Query on the sort key (sk < T), with no scan and no
 * extra index. One partition holds every in-flight render: writes are two per render (add on
 * start, delete on outcome), far below a partition's 1,000 writes/s. Items also carry the TTL
 * attribute (default 7 days) so a lost delete cannot keep an entry forever.
 */
export const INFLIGHT_RENDERS_PK = "RENDERS#INFLIGHT";

// A re-render's entry also names its version (docs/decisions/0009); version 1's key is unchanged.
const sk = (e: { jobId: string; startedAt: string; version?: number }) => `${e.startedAt}#${e.jobId}${e.version && e.version > 1 ? `#v${e.version}` : ""}`;

export function createDynamoRenderIndex(client: DynamoDBDocumentClient, opts: { table: string; ttlSeconds?: number }): RenderIndex {
  const { partitionKey: pk, sortKey } = JOBS_TABLE_KEYS;
  const ttl = opts.ttlSeconds ?? 7 * 86_400;
  return {
    async add(entry) {
      await client.send(
        new PutCommand({
          TableName: opts.table,
          Item: {
            [pk]: INFLIGHT_RENDERS_PK,
            [sortKey]: sk(entry),
            jobId: entry.jobId,
            renderId: entry.renderId,
            startedAt: entry.startedAt,
            ...(entry.version !== undefined && entry.version > 1 ? { version: entry.version } : {}),
            [JOBS_TABLE_TTL_ATTRIBUTE]: Math.floor(Date.parse(entry.startedAt) / 1000) + ttl,
          },
        }),
      );
    },
    async remove(entry) {
      await client.send(new DeleteCommand({ TableName: opts.table, Key: { [pk]: INFLIGHT_RENDERS_PK, [sortKey]: sk(entry) } }));
    },
    async listInFlight(olderThan, o) {
      const limit = o?.limit ?? 100;
      const out: InFlightRender[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const res = await client.send(
          new QueryCommand({
            TableName: opts.table,
            KeyConditionExpression: "#pk = :pk AND #sk < :cutoff",
            ExpressionAttributeNames: { "#pk": pk, "#sk": sortKey },
            ExpressionAttributeValues: { ":pk": INFLIGHT_RENDERS_PK, ":cutoff": olderThan.toISOString() },
            ScanIndexForward: true,
            Limit: limit - out.length,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of res.Items ?? []) {
          if (typeof item.jobId === "string" && typeof item.renderId === "string" && typeof item.startedAt === "string") {
            out.push({ jobId: item.jobId, renderId: item.renderId, startedAt: item.startedAt, ...(typeof item.version === "number" && item.version > 1 ? { version: item.version } : {}) });
          }
        }
        start = res.LastEvaluatedKey;
      } while (start && out.length < limit);
      return out;
    },
  };
}
