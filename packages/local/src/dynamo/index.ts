import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException, waitUntilTableExists } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import dynalite from "dynalite";
import { JOBS_TABLE_ATTRIBUTE_TYPE, JOBS_TABLE_KEYS } from "@reelbridge/core/adapters/aws/dynamodb-table";

/** The jobs table of the local runtime (the runtime creates it; `reelbridge job` reads it). */
export const LOCAL_JOBS_TABLE = "local-reelbridge-jobs";

export interface LocalDynamo {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  client: DynamoDBClient;
  /** A document client over `client` (what the adapters take). */
  doc: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/** Credentials and region the emulator accepts (it checks neither). */
export const localDynamoClientConfig = (endpoint: string) => ({
  endpoint,
  region: "local",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
  maxAttempts: 3,
});

/**
 * DynamoDB for the local runtime: dynalite (DynamoDB's wire protocol over LevelDB) in this
 * process, its data under `<dataDir>/dynamo`, so jobs survive restarts. Listens on 127.0.0.1
 * only; port 0 (the default) picks a free one.
 */
export async function startLocalDynamo(opts: { dataDir: string; port?: number }): Promise<LocalDynamo> {
  const path = join(opts.dataDir, "dynamo");
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient(localDynamoClientConfig(endpoint));
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  let closed: Promise<void> | undefined;
  return {
    endpoint,
    client,
    doc,
    close: () =>
      (closed ??= new Promise<void>((resolve, reject) => {
        client.destroy();
        // Keep-alive sockets would hold server.close() open until they time out.
        server.closeAllConnections();
        server.close((err?: Error) => (err ? reject(err) : resolve()));
      })),
  };
}

/**
 * Creates the jobs table with the owner index, as stacks/ does in AWS (dynamodb-table.ts).
 * Idempotent: an existing table is left as it is. Returns once the table is ACTIVE.
 */
export async function createJobsTable(client: DynamoDBClient, name: string): Promise<void> {
  const k = JOBS_TABLE_KEYS;
  const S = JOBS_TABLE_ATTRIBUTE_TYPE;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: k.partitionKey, AttributeType: S },
          { AttributeName: k.sortKey, AttributeType: S },
          { AttributeName: k.ownerIndex.partitionKey, AttributeType: S },
          { AttributeName: k.ownerIndex.sortKey, AttributeType: S },
        ],
        KeySchema: [
          { AttributeName: k.partitionKey, KeyType: "HASH" },
          { AttributeName: k.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: k.ownerIndex.name,
            KeySchema: [
              { AttributeName: k.ownerIndex.partitionKey, KeyType: "HASH" },
              { AttributeName: k.ownerIndex.sortKey, KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException || (err as { name?: string }).name === "ResourceInUseException")) throw err;
  }
  const desc = await client.send(new DescribeTableCommand({ TableName: name }));
  if (desc.Table?.TableStatus !== "ACTIVE") await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: name });
}
