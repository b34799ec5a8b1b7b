import { Match } from "aws-cdk-lib/assertions";
import type { Template } from "aws-cdk-lib/assertions";
import type { Stack } from "aws-cdk-lib";
import { getStack } from "sst/constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { pipelineEvents } from "../../packages/events/src/events";
import { jsonSchemas } from "../../packages/events/src/json-schema";
import { stageConfig, stageFeatures } from "../../packages/functions/src/stage-config";
import { endpoints, endpointUrlEnv, schedules, subscriptions } from "../../packages/functions/src/topology";
import { Api } from "../Api";
import { Bus } from "../Bus";
import { Pipeline } from "../Pipeline";
import { Storage } from "../Storage";
import { pascal } from "../lib/functions";
import { synth } from "./helpers";

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const ofType = (t: Template, type: string) => Object.entries(t.toJSON().Resources as Resources).filter(([, r]) => r.Type === type);

// Synthesizes the staging stage (consumer accounts, consumer subscriptions and JWT configured),
// offline, once for the file.
let storage: Template, bus: Template, api: Template, pipeline: Template;
let resolve: (v: unknown) => unknown;
let account: string;
beforeAll(async () => {
  const { template } = await synth("staging");
  storage = template(Storage);
  bus = template(Bus);
  api = template(Api);
  pipeline = template(Pipeline);
  const pipelineStack = getStack(Pipeline) as unknown as Stack;
  resolve = (v) => pipelineStack.resolve(v);
  account = pipelineStack.account;
}, 120_000);

const config = stageConfig("staging");

describe("media bucket", () => {
  it("blocks all public access and encrypts at rest", () => {
    storage.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
    });
  });

  it("denies every request that is not TLS", () => {
    storage.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("sends its events to EventBridge", () => {
    storage.hasResourceProperties("Custom::S3BucketNotifications", {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });

  it("allows browser POSTs from the stage's web origins only", () => {
    const [[, bucket]] = ofType(storage, "AWS::S3::Bucket") as unknown as [[string, { Properties: { CorsConfiguration: { CorsRules: Array<{ AllowedOrigins: string[]; AllowedMethods: string[] }> } } }]];
    const rules = bucket.Properties.CorsConfiguration.CorsRules;
    expect(rules.flatMap((r) => r.AllowedOrigins)).toEqual(config.webOrigins);
    expect(rules[0]!.AllowedMethods).toContain("POST");
  });

  it("expires abandoned uploads and aborts incomplete multipart uploads", () => {
    storage.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: "uploads/", ExpirationInDays: config.uploadsExpireAfterDays, Status: "Enabled" }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: "Enabled" }),
        ]),
      },
    });
  });

  it("deploys the music catalog's tracks where the render step presigns them", () => {
    storage.hasResourceProperties("Custom::CDKBucketDeployment", { DestinationBucketKeyPrefix: "assets/music/", Prune: true });
  });

  it("has a jobs table with the owner index, on demand, with point-in-time recovery", () => {
    storage.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: "byOwner", KeySchema: [{ AttributeName: "gsi1pk", KeyType: "HASH" }, { AttributeName: "gsi1sk", KeyType: "RANGE" }] })],
    });
  });
});

describe("pipeline bus", () => {
  it("is a custom bus with an archive for replay", () => {
    bus.hasResourceProperties("AWS::Events::EventBus", { Name: "staging-reelbridge" });
    bus.hasResourceProperties("AWS::Events::Archive", { ArchiveName: "staging-reelbridge", RetentionDays: config.archiveRetentionDays });
  });

  it("registers every contract's JSON Schema in the schema registry", () => {
    bus.hasResourceProperties("AWS::EventSchemas::Registry", { RegistryName: "staging-reelbridge" });
    const schemas = ofType(bus, "AWS::EventSchemas::Schema").map(([, r]) => r.Properties as { SchemaName: string; Type: string; Content: string });
    expect(schemas.map((s) => s.SchemaName).sort()).toEqual(Object.keys(jsonSchemas()).map((n) => `reelbridge@${n}`).sort());
    for (const s of schemas) {
      expect(s.Type).toBe("JSONSchemaDraft4");
      expect(JSON.parse(s.Content).$schema).toBe("http://json-schema.org/draft-04/schema#");
    }
  });

  it("lets the stage's consumer accounts manage their own rules", () => {
    const policies = ofType(bus, "AWS::Events::EventBusPolicy");
    expect(policies).toHaveLength(1);
    const stmt = (policies[0]![1].Properties as { Statement: { Principal: { AWS: unknown }; Action: string[]; Condition: unknown } }).Statement;
    expect(JSON.stringify(stmt.Principal)).toContain("444455556666");
    expect(stmt.Action).toEqual(expect.arrayContaining(["events:PutRule", "events:PutTargets"]));
    expect(stmt.Condition).toEqual({ StringEqualsIfExists: { "events:creatorAccount": "${aws:PrincipalAccount}" } });
  });

  it("turns each consumer subscription into a rule with a retry policy and a DLQ", () => {
    for (const sub of config.consumerSubscriptions) {
      bus.hasResourceProperties("AWS::Events::Rule", {
        Name: `staging-reelbridge-consumer-${sub.name}`,
        EventPattern: sub.pattern,
        Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })],
      });
    }
    bus.hasResourceProperties("AWS::Events::Rule", {
      Name: "staging-reelbridge-consumer-moderation-failures",
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 }, RoleArn: Match.anyValue() })],
    });
  });
});

describe("topology → infrastructure", () => {
  // What staging turns on: its config names a Supabase project, so the supabase-sink is there.
  const topo = () => subscriptions({ mediaBucket: "TOKEN", features: stageFeatures(config) });

  it("each subscription became exactly one rule with exactly its pattern", () => {
    const rules = ofType(pipeline, "AWS::Events::Rule").filter(([, r]) => r.Properties.EventPattern);
    expect(rules).toHaveLength(topo().length);
    const stackPatterns = rules.map(([, r]) => JSON.stringify(r.Properties.EventPattern)).sort();
    // Build the expected patterns with the real bucket reference, resolved like CloudFormation.
    const bucketName = (rules.find(([, r]) => JSON.stringify(r.Properties.EventPattern).includes("aws.s3"))![1].Properties.EventPattern as { detail: { bucket: { name: unknown[] } } }).detail.bucket.name[0];
    const expected = subscriptions({ mediaBucket: "__BUCKET__", features: stageFeatures(config) }).map((s) => JSON.stringify(resolve(s.pattern)).replace('"__BUCKET__"', JSON.stringify(bucketName))).sort();
    expect(stackPatterns).toEqual(expected);
    for (const s of topo()) {
      pipeline.hasResourceProperties("AWS::Events::Rule", { Name: `staging-reelbridge-${s.name}`, State: "ENABLED" });
    }
  });

  it("S3 uploads are matched on the default bus; pipeline events on the custom bus", () => {
    const rules = ofType(pipeline, "AWS::Events::Rule").filter(([, r]) => r.Properties.EventPattern);
    for (const [, r] of rules) {
      const isS3 = JSON.stringify(r.Properties.EventPattern).includes("aws.s3");
      if (isS3) expect(r.Properties.EventBusName).toBe("default");
      else expect(JSON.stringify(r.Properties.EventBusName)).toContain("Bus");
    }
  });

  it("puts a retry policy and a DLQ on every target", () => {
    const rules = ofType(pipeline, "AWS::Events::Rule").filter(([, r]) => r.Properties.EventPattern);
    for (const [, r] of rules) {
      const targets = r.Properties.Targets as Array<{ RetryPolicy?: unknown; DeadLetterConfig?: unknown }>;
      expect(targets).toHaveLength(1);
      expect(targets[0]!.RetryPolicy).toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 });
      expect(targets[0]!.DeadLetterConfig).toBeDefined();
    }
  });

  it("queued steps consume their queue with a maximum concurrency and batch-item failures", () => {
    const queued = topo().filter((s) => s.delivery.kind === "queue");
    const mappings = ofType(pipeline, "AWS::Lambda::EventSourceMapping").map(([, r]) => r.Properties);
    expect(mappings).toHaveLength(queued.length);
    for (const s of queued) {
      if (s.delivery.kind !== "queue") continue;
      pipeline.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        BatchSize: s.delivery.batchSize,
        ScalingConfig: { MaximumConcurrency: config.concurrency[s.delivery.concurrencyKey] },
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      });
      pipeline.hasResourceProperties("AWS::SQS::Queue", {
        VisibilityTimeout: s.delivery.visibilityTimeoutSeconds,
        RedrivePolicy: { maxReceiveCount: s.delivery.maxReceiveCount, deadLetterTargetArn: Match.anyValue() },
      });
    }
  });

  it("direct steps get Lambda async retries and an on-failure destination", () => {
    const direct = topo().filter((s) => s.delivery.kind === "direct");
    const configs = ofType(pipeline, "AWS::Lambda::EventInvokeConfig").map(([, r]) => r.Properties as { MaximumRetryAttempts: number; DestinationConfig: { OnFailure: { Destination: unknown } } });
    // …and so do the scheduled functions (the render watchdog).
    expect(configs).toHaveLength(direct.length + schedules.length);
    for (const c of configs) {
      expect(c.MaximumRetryAttempts).toBe(2);
      expect(c.DestinationConfig.OnFailure.Destination).toBeDefined();
    }
  });

  it("passes each function the URLs of the endpoints it reaches (topology `reaches`), and no others", () => {
    const fns = ofType(pipeline, "AWS::Lambda::Function");
    for (const sub of topo()) {
      const [, fn] = fns.find(([id]) => id.startsWith(pascal(sub.name)))!;
      const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      // Endpoint URLs, not SST secret placeholders (SST_Secret_value_SUPABASE_DB_URL).
      const urlVars = Object.keys(vars).filter((k) => k.endsWith("_URL") && !k.startsWith("SST_Secret_")).sort();
      expect(urlVars, sub.name).toEqual((sub.reaches ?? []).map(endpointUrlEnv).sort());
      for (const name of sub.reaches ?? []) expect(JSON.stringify(vars[endpointUrlEnv(name)]), `${sub.name} → ${name}`).toContain(pascal(name));
    }
    expect(topo().find((s) => s.name === "render-step")?.reaches).toEqual(["render-webhook"]);
  });

  it("gives every schedule's target a retry policy and a DLQ, so a failing watchdog is seen", () => {
    const scheduled = ofType(pipeline, "AWS::Events::Rule").filter(([, r]) => r.Properties.ScheduleExpression);
    expect(scheduled).toHaveLength(schedules.length);
    for (const [id, r] of scheduled) {
      const [target] = r.Properties.Targets as Array<{ RetryPolicy?: { MaximumRetryAttempts: number }; DeadLetterConfig?: { Arn: unknown } }>;
      expect(target!.RetryPolicy?.MaximumRetryAttempts, id).toBeGreaterThan(0);
      expect(JSON.stringify(target!.DeadLetterConfig?.Arn), id).toMatch(/RenderWatchdogDlq/);
    }
  });

  it("builds the supabase-sink where the stage names a Supabase project: its queue, a DLQ with an alarm, and SUPABASE_DB_URL bound to it alone", () => {
    expect(config.supabase?.projectRef).toBeDefined();
    const sink = topo().find((s) => s.name === "supabase-sink")!;
    expect(sink.delivery.kind).toBe("queue");
    const fns = ofType(pipeline, "AWS::Lambda::Function");
    const [, fn] = fns.find(([id]) => id.startsWith("SupabaseSink"))!;
    expect(fn.Properties.Handler).toBe("packages/functions/src/supabase-sink.handler");
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars.SST_Secret_value_SUPABASE_DB_URL).toBe("__FETCH_FROM_SSM__");
    expect(JSON.stringify(vars)).not.toMatch(/postgres(ql)?:\/\//);
    // Only the sink may read the connection string from SSM.
    const policies = ofType(pipeline, "AWS::IAM::Policy");
    for (const [id, p] of policies) {
      if (id.startsWith("SupabaseSink")) expect(JSON.stringify(p), id).toMatch(/ssm:GetParameters[\s\S]*SUPABASE_DB_URL/);
      else expect(JSON.stringify(p), id).not.toContain("SUPABASE_DB_URL");
    }
    for (const [id, r] of fns.filter(([id]) => !id.startsWith("SupabaseSink"))) expect(JSON.stringify(r.Properties.Environment ?? {}), id).not.toContain("SUPABASE_DB_URL");
    pipeline.hasResourceProperties("AWS::Events::Rule", { Name: "staging-reelbridge-supabase-sink", EventPattern: sink.pattern });
    const alarms = ofType(pipeline, "AWS::CloudWatch::Alarm").map(([, r]) => JSON.stringify(r.Properties));
    expect(alarms.some((a) => a.includes("SupabaseSinkDlq"))).toBe(true);
    pipeline.hasResourceProperties("AWS::Lambda::EventSourceMapping", { ScalingConfig: { MaximumConcurrency: config.concurrency.supabase } });
  });

  it("watches every DLQ with an alarm", () => {
    const dlqs = ofType(pipeline, "AWS::SQS::Queue").filter(([id]) => id.includes("Dlq"));
    expect(dlqs).toHaveLength(topo().length + schedules.length);
    const alarms = ofType(pipeline, "AWS::CloudWatch::Alarm").map(([, r]) => JSON.stringify(r.Properties));
    for (const [id] of dlqs) expect(alarms.some((a) => a.includes(id))).toBe(true);
  });

  it("creates every function of the topology on nodejs24.x with its own role and its real code", () => {
    const templates = [pipeline, api];
    const fns = templates.flatMap((t) => ofType(t, "AWS::Lambda::Function")).filter(([id]) => !/CustomResource|LogRetention|AutoDelete|BucketNotifications/.test(id));
    expect(fns).toHaveLength(topo().length + endpoints.length + schedules.length);
    const roles = new Set(fns.map(([, r]) => JSON.stringify(r.Properties.Role)));
    expect(roles.size).toBe(fns.length);
    // SST's real build ran (stacks/lib/build.ts): the runtime, handler and code asset are the
    // deployed ones, not the placeholder SST writes before it bundles.
    const specs = [...topo(), ...endpoints, ...schedules];
    for (const [id, r] of fns) {
      const spec = specs.find((s) => id.startsWith(pascal(s.name)))!;
      expect(r.Properties.Runtime, id).toBe("nodejs24.x");
      expect(r.Properties.Handler, id).toBe(spec.handler);
      expect(r.Properties.Code, id).toEqual({ S3Bucket: expect.anything(), S3Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) });
      // Native binaries decide the architecture: the one they were installed and tested on.
      expect(r.Properties.Architectures, id).toEqual([spec.native?.length ? "x86_64" : "arm64"]);
    }
  });

  it("grants least privilege: no wildcard actions, S3 scoped to prefixes, PutEvents scoped to the bus", () => {
    const policies = [pipeline, api].flatMap((t) => ofType(t, "AWS::IAM::Policy")).filter(([id]) => !/CustomResource|LogRetention/.test(id));
    expect(policies.length).toBeGreaterThanOrEqual(topo().length + endpoints.length);
    for (const [id, p] of policies) {
      const statements = (p.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown; Sid?: string }> }).Statement;
      for (const s of statements) {
        for (const a of [s.Action].flat()) expect(a, `${id}: ${a}`).not.toMatch(/\*/);
        if ([s.Action].flat().some((a) => a === "s3:GetObject" || a === "s3:PutObject")) {
          // Our media bucket's prefixes, or Remotion's render keys for cancelling (next test).
          if (s.Sid?.startsWith("RemotionCancel")) continue;
          expect(JSON.stringify(s.Resource), id).toMatch(/\/(uploads|jobs)\/\*/);
        }
        if ([s.Action].flat().includes("events:PutEvents")) {
          expect(JSON.stringify(s.Resource), id).toContain("Bus");
        }
      }
    }
  });

  it("lets only the functions that cancel renders touch Remotion's bucket: read progress.json, write cancel.json, in the render region's bucket of our own account (issue #13)", () => {
    const policies = [pipeline, api].flatMap((t) => ofType(t, "AWS::IAM::Policy"));
    const specs = [...topo(), ...endpoints, ...schedules];
    type Stmt = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
    const cancellers = specs.filter((s) => s.permissions.some((p) => p.kind === "remotion:cancel")).map((s) => s.name);
    expect(cancellers.sort()).toEqual(["render-canceller", "render-step"]);
    const bucket = `remotionlambda-${config.remotion.region.replace(/-/g, "")}-*`;
    for (const spec of specs) {
      const [, policy] = policies.find(([id]) => id.startsWith(pascal(spec.name)))!;
      const statements = (policy.Properties.PolicyDocument as { Statement: Stmt[] }).Statement;
      const remotionS3 = statements.filter((st) => JSON.stringify(st.Resource).includes("remotionlambda"));
      // No STS grant anywhere: GetCallerIdentity needs none.
      expect(statements.filter((st) => [st.Action].flat().some((a) => a.startsWith("sts:"))), spec.name).toEqual([]);
      if (!cancellers.includes(spec.name)) {
        expect(remotionS3, spec.name).toEqual([]);
        continue;
      }
      // Only a bucket of the stack's own account (the stage's), whatever its name.
      const own = { StringEquals: { "s3:ResourceAccount": account } };
      expect(remotionS3.map(({ Action, Resource, Condition }) => ({ Action: [Action].flat().sort(), Resource: [Resource].flat(), Condition })), spec.name).toEqual([
        { Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${bucket}/renders/*/progress.json`], Condition: own },
        { Action: ["s3:PutObject", "s3:PutObjectAcl"], Resource: [`arn:aws:s3:::${bucket}/renders/*/cancel.json`], Condition: own },
      ]);
    }
  });

  it("lets the upload API reserve budget and record the jobs it signs, nothing else in the jobs table: GetItem/UpdateItem on BUDGET# keys, PutItem on JOB# keys (issue #13)", () => {
    const policies = [pipeline, api].flatMap((t) => ofType(t, "AWS::IAM::Policy"));
    const [, policy] = policies.find(([id]) => id.startsWith(pascal("upload-api")))!;
    type Stmt = { Sid?: string; Action: string | string[]; Condition?: Record<string, Record<string, unknown>> };
    const dynamo = (policy.Properties.PolicyDocument as { Statement: Stmt[] }).Statement.filter((st) => [st.Action].flat().some((a) => a.startsWith("dynamodb:")));
    // Budget items: read and reserve; job items: PutItem only (the ledger's "job-signed" record).
    expect(dynamo).toHaveLength(2);
    expect([dynamo[0]!.Action].flat().sort()).toEqual(["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    expect(dynamo[0]!.Condition).toEqual({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["BUDGET#*"] } });
    expect([dynamo[1]!.Action].flat()).toEqual(["dynamodb:PutItem"]);
    expect(dynamo[1]!.Condition).toEqual({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["JOB#*"] } });
  });

  it("lets each function PutEvents only with its own sources and detail-types (events:source condition)", () => {
    const policies = [pipeline, api].flatMap((t) => ofType(t, "AWS::IAM::Policy"));
    const specs = [...topo(), ...endpoints, ...schedules];
    const publishers = specs.filter((s) => s.permissions.some((p) => p.kind === "events:put"));
    // Every function that publishes (LTX, render, segmenter, notifier, webhook, watchdog, the jobs API).
    expect(publishers.map((s) => s.name).sort()).toEqual(["jobs-api", "ltx-step", "notifier", "render-step", "render-watchdog", "render-webhook", "segmenter"]);
    const expectedSources: Record<string, string[]> = {
      "ltx-step": ["reelbridge.ingest"],
      "render-step": ["reelbridge.render"],
      "render-webhook": ["reelbridge.render"],
      "render-watchdog": ["reelbridge.render"],
      segmenter: ["reelbridge.segmenter"],
      notifier: ["reelbridge.notifier"],
      "jobs-api": ["reelbridge.jobs"],
    };
    type Stmt = { Action: string | string[]; Condition?: { StringEquals?: Record<string, string | string[]> } };
    for (const spec of specs) {
      const [, policy] = policies.find(([id]) => id.startsWith(pascal(spec.name)))!;
      const statements = (policy.Properties.PolicyDocument as { Statement: Stmt[] }).Statement.filter((st) => [st.Action].flat().includes("events:PutEvents"));
      if (!publishers.includes(spec)) {
        expect(statements, spec.name).toEqual([]);
        continue;
      }
      expect(statements, spec.name).toHaveLength(1);
      const cond = statements[0]!.Condition?.StringEquals ?? {};
      expect([cond["events:source"]].flat().sort(), spec.name).toEqual(expectedSources[spec.name]);
      const declared = spec.permissions.flatMap((p) => (p.kind === "events:put" ? p.detailTypes : []));
      expect([cond["events:detail-type"]].flat().sort(), spec.name).toEqual([...declared].sort());
      // The catalog agrees: each declared type is published with the function's source.
      for (const d of declared) expect(expectedSources[spec.name], `${spec.name} ${d}`).toContain(pipelineEvents[d].source);
    }
  });

  it("keeps secrets out of environment variables (SST secrets, bound per function)", () => {
    const fns = [pipeline, api].flatMap((t) => ofType(t, "AWS::Lambda::Function"));
    for (const [, r] of fns) {
      const vars = (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      for (const [k, v] of Object.entries(vars)) {
        // SST binds a secret as a placeholder the function resolves from SSM at cold start.
        if (/SECRET|API_KEY/.test(k)) expect(v, k).toBe("__FETCH_FROM_SSM__");
        expect(JSON.stringify(v)).not.toMatch(/whsec_|sk_live/);
      }
    }
    // The LTX step can read its secret from SSM, the segmenter cannot.
    const ltxPolicy = ofType(pipeline, "AWS::IAM::Policy").find(([id]) => id.startsWith("LtxStep"))![1];
    expect(JSON.stringify(ltxPolicy)).toMatch(/ssm:GetParameters[\s\S]*LTX_API_KEY/);
    const segPolicy = ofType(pipeline, "AWS::IAM::Policy").find(([id]) => id.startsWith("Segmenter"))![1];
    expect(JSON.stringify(segPolicy)).not.toMatch(/LTX_API_KEY|REMOTION_WEBHOOK_SECRET|NOTIFY_WEBHOOK_SECRET/);
  });

  it("exposes every endpoint as a Function URL without URL-level CORS (the handlers answer CORS themselves)", () => {
    api.hasResourceProperties("AWS::Lambda::Url", { AuthType: "NONE" });
    const urls = ofType(api, "AWS::Lambda::Url").map(([, r]) => r.Properties);
    expect(urls).toHaveLength(endpoints.length);
    // The handlers set Access-Control-Allow-Origin and answer OPTIONS (lib/cors.ts); URL-level
    // CORS as well would duplicate that header (browsers reject it) and pre-empt their OPTIONS.
    expect(urls.filter((u) => u.Cors)).toHaveLength(0);
  });
});
