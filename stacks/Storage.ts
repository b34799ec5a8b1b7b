import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import { fileURLToPath } from "node:url";
import { Config } from "sst/constructs";
import type { StackContext } from "sst/constructs";
import { JOBS_TABLE_KEYS, JOBS_TABLE_TTL_ATTRIBUTE } from "../packages/core/src/adapters/aws/dynamodb-table";
import { prefixes } from "../packages/functions/src/topology";
import { privateBucket } from "./lib/bucket";
import { useStageConfig } from "./lib/stage";

/**
 * The media bucket (uploads, intermediate and final media) and the jobs table (job records and
 * the steps' idempotency state).
 */
export function Storage({ stack, app }: StackContext) {
  const config = useStageConfig(app);

  // ACLs are off (privateBucket): Remotion writes with privacy "no-acl".
  const bucket = privateBucket(stack, "Media", app.stage, {
    eventBridgeEnabled: true,
    cors: [
      {
        // Browsers POST uploads straight to the bucket, and play media from presigned GETs.
        allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
        allowedOrigins: config.webOrigins,
        allowedHeaders: ["*"],
        exposedHeaders: ["ETag", "Location", "Content-Length", "Content-Range", "Accept-Ranges"],
        maxAge: 3000,
      },
    ],
    lifecycleRules: [
      {
        id: "abandoned-uploads",
        prefix: prefixes.uploads,
        expiration: Duration.days(config.uploadsExpireAfterDays),
      },
      { id: "incomplete-multipart", abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
  });

  // The music catalog's tracks, where the render step presigns them for Remotion.
  new s3deploy.BucketDeployment(stack, "MusicAssets", {
    destinationBucket: bucket,
    destinationKeyPrefix: `${prefixes.assets}music/`,
    sources: [s3deploy.Source.asset(fileURLToPath(new URL("../remotion/public/music", import.meta.url)), { exclude: ["*.md"] })],
    prune: true,
  });

  const table = new dynamodb.Table(stack, "Jobs", {
    partitionKey: { name: JOBS_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: JOBS_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: JOBS_TABLE_TTL_ATTRIBUTE,
    removalPolicy: app.stage === "prod" ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  // A user's jobs, newest first (packages/core/src/adapters/aws/dynamodb-table.ts).
  table.addGlobalSecondaryIndex({
    indexName: JOBS_TABLE_KEYS.ownerIndex.name,
    partitionKey: { name: JOBS_TABLE_KEYS.ownerIndex.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: JOBS_TABLE_KEYS.ownerIndex.sortKey, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.ALL,
  });

  // Secrets live in SSM through SST (`sst secrets set NAME value --stage …`) and are bound only
  // to the functions whose topology entry asks for them; never plain environment variables.
  const secrets = {
    LTX_API_KEY: new Config.Secret(stack, "LTX_API_KEY"),
    REMOTION_WEBHOOK_SECRET: new Config.Secret(stack, "REMOTION_WEBHOOK_SECRET"),
    NOTIFY_WEBHOOK_SECRET: new Config.Secret(stack, "NOTIFY_WEBHOOK_SECRET"),
    // The supabase-sink's connection string (stages with a Supabase project; a Secret is only a name until bound).
    SUPABASE_DB_URL: new Config.Secret(stack, "SUPABASE_DB_URL"),
  };

  stack.addOutputs({ MediaBucket: bucket.bucketName, JobsTable: table.tableName });
  return { bucket, table, secrets };
}
