/**
 * The jobs table: one DynamoDB table holding every job record and every step's small state
 * items (single-table design). stacks/ creates it from these constants, the local runtime's
 * emulator creates the same shape (packages/local/src/dynamo), and the adapters read and write
 * through the key helpers below, so the three cannot drift apart.
 *
 *   job record   pk JOB#<jobId>   sk JOB            gsi1pk OWNER#<owner>   gsi1sk <createdAt>#<jobId>
 *   step state   pk JOB#<jobId>   sk STATE#<name>   (expiresAt when the store has a TTL)
 *   budget       pk BUDGET#<owner> sk DAY#<yyyy-mm-dd> spentNanoUsd (atomic ADD), expiresAt
 *
 * The `byOwner` index lists a user's jobs newest first (createdAt is ISO 8601 UTC, jobIds are
 * ULIDs, both sort by time). Its projection is ALL: listing returns whole records.
 */
export const JOBS_TABLE_KEYS = {
  partitionKey: "pk",
  sortKey: "sk",
  ownerIndex: { name: "byOwner", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
} as const;

/**
 * Epoch-seconds attribute DynamoDB's TTL deletes items by. Only step-state stores created with
 * a `ttlSeconds` write it; job records never expire.
 */
export const JOBS_TABLE_TTL_ATTRIBUTE = "expiresAt";

/** Every key attribute is a string. */
export const JOBS_TABLE_ATTRIBUTE_TYPE = "S" as const;

export const jobPk = (jobId: string) => `JOB#${jobId}`;
export const JOB_RECORD_SK = "JOB";
export const stateSk = (name: string) => `STATE#${name}`;
export const ownerPk = (owner: string) => `OWNER#${owner}`;
export const ownerSk = (createdAt: string, jobId: string) => `${createdAt}#${jobId}`;
export const budgetPk = (owner: string) => `BUDGET#${owner}`;
export const budgetSk = (day: string) => `DAY#${day}`;
