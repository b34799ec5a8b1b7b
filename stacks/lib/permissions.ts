import { Stack } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type { App } from "sst/constructs";
import { pipelineEvents } from "../../packages/events/src/events";
import type { DetailType } from "../../packages/events/src/events";
import type { Permission } from "../../packages/functions/src/topology";
import { budgetPk, jobPk } from "../../packages/core/src/adapters/aws/dynamodb-table";
import { useStageConfig } from "./stage";

export interface PermissionTargets {
  bucket: s3.IBucket;
  table: dynamodb.ITable;
  bus: events.IEventBus;
}

/**
 * Least-privilege IAM statements for a topology permission list: no wildcard actions, S3 access
 * scoped to the key prefixes the handler needs, PutEvents scoped to the pipeline bus and to the
 * function's own sources and detail-types. Secrets
 * are not here: they are SST secrets bound to the function (SSM GetParameters on that secret).
 */
/** The sources a list of event types is published with, from the events catalog. */
export const sourcesOf = (detailTypes: readonly DetailType[]): string[] => [...new Set(detailTypes.map((d) => pipelineEvents[d].source))].sort();

export function statementsFor(permissions: Permission[], t: PermissionTargets): iam.PolicyStatement[] {
  const out: iam.PolicyStatement[] = [];
  const readPrefixes = permissions.flatMap((p) => (p.kind === "s3:read" ? [p.prefix] : []));
  const writePrefixes = permissions.flatMap((p) => (p.kind === "s3:write" ? [p.prefix] : []));
  if (readPrefixes.length > 0) {
    out.push(
      new iam.PolicyStatement({
        sid: "ReadMedia",
        actions: ["s3:GetObject"],
        resources: readPrefixes.map((p) => t.bucket.arnForObjects(`${p}*`)),
      }),
      // Without ListBucket a missing key answers 403 instead of 404, and the steps rely on 404
      // (a vanished upload is a permanent InvalidUpload, not an AccessDenied retried for hours).
      // A condition on s3:prefix would not help: GET and HEAD carry no prefix, so the grant must
      // be unconditional. It reveals key names of this bucket only, never contents.
      new iam.PolicyStatement({
        sid: "ListMediaForNotFound",
        actions: ["s3:ListBucket"],
        resources: [t.bucket.bucketArn],
      }),
    );
  }
  if (writePrefixes.length > 0) {
    out.push(
      new iam.PolicyStatement({
        sid: "WriteMedia",
        actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
        resources: writePrefixes.map((p) => t.bucket.arnForObjects(`${p}*`)),
      }),
    );
  }
  const detailTypes = [...new Set(permissions.flatMap((p) => (p.kind === "events:put" ? p.detailTypes : [])))].sort();
  if (permissions.some((p) => p.kind === "events:put")) {
    // Each function publishes as itself only: the sources and detail-types of the event types it
    // declares (the catalog decides each type's source), so a compromised or buggy function
    // cannot put, say, a RenderCompleted from the segmenter (issue #11 item 3).
    out.push(
      new iam.PolicyStatement({
        sid: "PublishPipelineEvents",
        actions: ["events:PutEvents"],
        resources: [t.bus.eventBusArn],
        conditions: { StringEquals: { "events:source": sourcesOf(detailTypes), "events:detail-type": detailTypes } },
      }),
    );
  }
  const jobsWrite = permissions.some((p) => p.kind === "jobs:write");
  const jobsRead = jobsWrite || permissions.some((p) => p.kind === "jobs:read");
  if (jobsRead) {
    out.push(
      new iam.PolicyStatement({
        sid: jobsWrite ? "ReadWriteJobs" : "ReadJobs",
        actions: jobsWrite
          ? ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
          : ["dynamodb:GetItem", "dynamodb:Query"],
        resources: [t.table.tableArn, `${t.table.tableArn}/index/*`],
      }),
    );
  }
  if (permissions.some((p) => p.kind === "budget:reserve") && !jobsWrite) {
    // Only the budget items of the jobs table (pk BUDGET#<owner>, core adapters/aws/dynamodb-table.ts):
    // a function that reserves budget cannot read or write job records.
    out.push(
      new iam.PolicyStatement({
        sid: "ReserveBudget",
        actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        resources: [t.table.tableArn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [budgetPk("*")] } },
      }),
    );
  }
  if (permissions.some((p) => p.kind === "jobs:sign") && !jobsWrite) {
    // The upload API records each job it signs (ledger "job-signed", so a queued job can be
    // cancelled): PutItem on job items only, nothing read, updated or deleted. IAM cannot narrow
    // the sort key; the store writes it conditionally (attribute_not_exists), never over a record.
    out.push(
      new iam.PolicyStatement({
        sid: "RecordSignedJobs",
        actions: ["dynamodb:PutItem"],
        resources: [t.table.tableArn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [jobPk("*")] } },
      }),
    );
  }
  if (permissions.some((p) => p.kind === "remotion:render")) {
    const stack = Stack.of(t.bucket);
    const { remotion } = useStageConfig(stack.node.root as App);
    out.push(
      // Remotion's documented caller policy, trimmed: renderMediaOnLambda and getRenderProgress
      // are both invocations of the Remotion function (scripts/deploy-remotion.ts), and only of
      // the stage's own function in its region (stage config), not any remotion-render-* anywhere.
      new iam.PolicyStatement({
        sid: "InvokeRemotionRenderer",
        actions: ["lambda:InvokeFunction"],
        resources: [`arn:aws:lambda:${remotion.region}:${stack.account}:function:${remotion.functionName}`],
      }),
    );
  }
  if (permissions.some((p) => p.kind === "remotion:cancel")) {
    const stack = Stack.of(t.bucket);
    const { remotion } = useStageConfig(stack.node.root as App);
    out.push(...remotionCancelStatements(remotion.region, stack.account));
  }
  return out;
}

/**
 * What cancelRenderOnLambda (@remotion/lambda-client 4.0.527, internalCancelRenderOnLambda) does,
 * and no more (docs/decisions/0009):
 * - GetCallerIdentity for the expected bucket owner: STS needs no permission for it (AWS STS API
 *   reference, GetCallerIdentity: "No permissions are required to perform this operation"), so none
 *   is granted;
 * - GetObject of renders/{renderId}/progress.json (is cancellation enabled?);
 * - PutObject of renders/{renderId}/cancel.json with ACL "private" (a PutObject that sets an ACL
 *   also needs s3:PutObjectAcl).
 * Only in the Remotion bucket of the stage's render region (Remotion names it
 * remotionlambda-<region without dashes>-<hash>, makeBucketName), and only in a bucket of our own
 * account (s3:ResourceAccount; Remotion itself sends ExpectedBucketOwner = the caller's account).
 */
export function remotionCancelStatements(region: string, account: string): iam.PolicyStatement[] {
  const renders = `arn:aws:s3:::remotionlambda-${region.replace(/-/g, "")}-*/renders/*`;
  const ownAccount = { StringEquals: { "s3:ResourceAccount": account } };
  return [
    new iam.PolicyStatement({ sid: "RemotionCancelReadProgress", actions: ["s3:GetObject"], resources: [`${renders}/progress.json`], conditions: ownAccount }),
    new iam.PolicyStatement({ sid: "RemotionCancelWriteSignal", actions: ["s3:PutObject", "s3:PutObjectAcl"], resources: [`${renders}/cancel.json`], conditions: ownAccount }),
  ];
}
