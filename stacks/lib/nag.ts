import type { CloudAssembly } from "aws-cdk-lib/cx-api";

/**
 * The security rule pack run over the real build (cdk-nag's AwsSolutions checks, applied as an
 * aspect by `buildInfra({ aspects })`; stacks/test/nag.test.ts). Every finding is either fixed or
 * listed here with the reason it stands: a new finding fails the test until one or the other.
 */
export interface AcceptedFinding {
  /** The rule with cdk-nag's finding id, e.g. AwsSolutions-IAM5[Resource::*]. */
  rule: RegExp;
  /** Construct path of the resource. */
  path: RegExp;
  reason: string;
}

/** CDK's and SST's own handlers (custom resources, log retention, bucket deployment, site upload). */
const FRAMEWORK = /\/(CustomResourceHandler|LogRetention[0-9a-f]+|BucketNotificationsHandler[0-9a-f]+|Custom::CDKBucketDeployment[0-9A-F]+|Site\/S3UploaderPolicy)\//;
/** Our topology's functions' roles (one per function). */
const OUR_ROLES = /\/(UploadApi|StatusApi|JobsApi|RenderWebhook|LtxStep|RenderStep|RenderCanceller|DbWriter|Segmenter|Notifier|RenderWatchdog|SupabaseSink)\/ServiceRole\//;

export const ACCEPTED_FINDINGS: AcceptedFinding[] = [
  { rule: /^AwsSolutions-(IAM4|IAM5|L1)\b/, path: FRAMEWORK, reason: "CDK's and SST's own handlers: their roles, managed policies and runtimes are the framework's, not ours to pin" },
  { rule: /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]$/, path: OUR_ROLES, reason: "AWSLambdaBasicExecutionRole only allows writing the function's own CloudWatch Logs" },
  { rule: /^AwsSolutions-IAM5\[Resource::\*\]$/, path: OUR_ROLES, reason: "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) have no resource-level permissions" },
  { rule: /^AwsSolutions-IAM5\[Resource::<Media\w+\.Arn>\/(uploads|jobs|assets)\/\*\]$/, path: OUR_ROLES, reason: "object access under the prefix the topology grants (keys are made per job): a prefix is the narrowest scope" },
  { rule: /^AwsSolutions-IAM5\[Resource::<Jobs\w+\.Arn>\/index\/\*\]$/, path: OUR_ROLES, reason: "Query on the jobs table's own indexes (the owner index)" },
  { rule: /^AwsSolutions-IAM5\[Resource::arn:aws:s3:::remotionlambda-[a-z0-9]+-\*\/renders\/\*\/(progress|cancel)\.json\]$/, path: /\/(RenderStep|RenderCanceller)\/ServiceRole\//, reason: "cancelRenderOnLambda reads renders/{renderId}/progress.json and writes renders/{renderId}/cancel.json in Remotion's bucket of the render region (its name ends in a hash made when Remotion was set up; renderIds are made per render), in our own account only (s3:ResourceAccount): these two keys per render are the narrowest scope (stacks/lib/permissions.ts)" },
  { rule: /^AwsSolutions-SQS3$/, path: /Dlq\/Resource$/, reason: "the queue is itself a dead-letter queue (a rule target's DLQ or a Lambda on-failure destination), watched by an alarm" },
  { rule: /^AwsSolutions-S1$/, path: /\/(Media|SiteBucket)\/Resource$/, reason: "no S3 server access logs yet (a log bucket per stage is a follow-up); object writes are the pipeline's own and are traced in its events" },
  { rule: /^AwsSolutions-CFR3$/, path: /\/Site\/Distribution\/Resource$/, reason: "no CloudFront access logs yet: standard logging needs an ACL-enabled log bucket (follow-up with S1)" },
  { rule: /^AwsSolutions-CFR4$/, path: /\/Site\/Distribution\/Resource$/, reason: "the default *.cloudfront.net certificate: a minimum TLS version can only be set with a custom domain's ACM certificate" },
  { rule: /^AwsSolutions-CFR[12]$/, path: /\/Site\/Distribution\/Resource$/, reason: "a public page of static files: no geo restriction, no WAF in front of it (the APIs are Function URLs, not behind this distribution)" },
];

export interface NagFinding {
  level: "error" | "warning";
  rule: string;
  path: string;
  message: string;
}

/** cdk-nag's findings, as synthesis recorded them (error and warning annotations). */
export function nagFindings(assembly: CloudAssembly): NagFinding[] {
  return assembly.stacks.flatMap((s) =>
    s.messages
      .filter((m) => (m.level === "error" || m.level === "warning") && String(m.entry.data).startsWith("AwsSolutions-"))
      .map((m) => {
        const text = String(m.entry.data);
        return { level: m.level as NagFinding["level"], rule: text.split(":")[0] === text ? text : text.slice(0, text.indexOf(": ")), path: m.id, message: text };
      }),
  );
}

export const isAccepted = (f: NagFinding) => ACCEPTED_FINDINGS.some((a) => a.rule.test(f.rule) && a.path.test(f.path));
