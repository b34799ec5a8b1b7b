import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as eventschemas from "aws-cdk-lib/aws-eventschemas";
import type { StackContext } from "sst/constructs";
import { jsonSchemas } from "../packages/events/src/json-schema";
import { DEFAULT_RETRY_POLICY } from "../packages/functions/src/topology";
import { deadLetterQueue } from "./lib/dlq";
import { ruleWithPattern } from "./lib/rule";
import { useStageConfig } from "./lib/stage";

/**
 * The pipeline's custom event bus: archive (so consumers can replay), schema registry with the
 * contracts' JSON Schemas, a resource policy for the stage's consumer accounts, and the
 * consumer subscriptions declared in stage config.
 */
export function Bus({ stack, app }: StackContext) {
  const config = useStageConfig(app);

  const bus = new events.EventBus(stack, "Pipeline", { eventBusName: `${app.stage}-reelbridge` });

  bus.archive("Archive", {
    archiveName: `${app.stage}-reelbridge`,
    description: "Every reelbridge pipeline event, for replay.",
    eventPattern: { account: [stack.account] },
    retention: config.archiveRetentionDays === 0 ? undefined : Duration.days(config.archiveRetentionDays),
  });

  const registry = new eventschemas.CfnRegistry(stack, "Schemas", {
    registryName: `${app.stage}-reelbridge`,
    description: "reelbridge pipeline event contracts (generated from packages/events).",
  });
  for (const [name, schema] of Object.entries(jsonSchemas({ target: "draft-4" }))) {
    const s = new eventschemas.CfnSchema(stack, `Schema${name.replace(/[^A-Za-z0-9]/g, "")}`, {
      registryName: registry.registryName!,
      schemaName: `reelbridge@${name}`,
      type: "JSONSchemaDraft4",
      content: JSON.stringify(schema),
      description: (schema as { description?: string }).description,
    });
    s.addDependency(registry);
  }

  // Consumer accounts may create and manage their own rules on this bus (never others' rules).
  if (config.consumerAccounts.length > 0) {
    bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "ConsumerAccountsManageOwnRules",
        principals: config.consumerAccounts.map((a) => new iam.AccountPrincipal(a)),
        actions: ["events:PutRule", "events:PutTargets", "events:DeleteRule", "events:RemoveTargets", "events:DisableRule", "events:EnableRule", "events:DescribeRule", "events:ListTargetsByRule"],
        resources: [`arn:aws:events:${stack.region}:${stack.account}:rule/${bus.eventBusName}/*`],
        conditions: { StringEqualsIfExists: { "events:creatorAccount": "${aws:PrincipalAccount}" } },
      }),
    );
  }

  // Subscriptions other teams declared in stage config: their bus or queue (usually in their
  // own account), delivered with a role, a retry policy and a DLQ. Written as L1 targets
  // because CDK's L2 targets refuse cross-account imported resources.
  if (config.consumerSubscriptions.length > 0) {
    const { queue: dlq } = deadLetterQueue(stack, "ConsumerDlq");
    const role = new iam.Role(stack, "ConsumerDeliveryRole", {
      assumedBy: new iam.ServicePrincipal("events.amazonaws.com"),
      description: "Delivers pipeline events to consumer subscriptions declared in stage config.",
    });
    config.consumerSubscriptions.forEach((sub) => {
      const rule = ruleWithPattern(stack, `Consumer-${sub.name}`, {
        bus,
        pattern: sub.pattern,
        ruleName: `${app.stage}-reelbridge-consumer-${sub.name}`,
        description: `Consumer subscription ${sub.name} (stage config)`,
      });
      const arn = "eventBusArn" in sub.target ? sub.target.eventBusArn : sub.target.queueArn;
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ["eventBusArn" in sub.target ? "events:PutEvents" : "sqs:SendMessage"], resources: [arn] }),
      );
      (rule.node.defaultChild as events.CfnRule).targets = [
        {
          id: "consumer",
          arn,
          roleArn: role.roleArn,
          deadLetterConfig: { arn: dlq.queueArn },
          // Bus-to-bus targets take no retry policy; EventBridge retries them by default.
          ...("queueArn" in sub.target ? { retryPolicy: { maximumRetryAttempts: DEFAULT_RETRY_POLICY.maximumRetryAttempts, maximumEventAgeInSeconds: DEFAULT_RETRY_POLICY.maximumEventAgeSeconds } } : {}),
        },
      ];
      dlq.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal("events.amazonaws.com")],
          actions: ["sqs:SendMessage"],
          resources: [dlq.queueArn],
          conditions: { ArnEquals: { "aws:SourceArn": rule.ruleArn } },
        }),
      );
    });
  }

  stack.addOutputs({ BusName: bus.eventBusName, BusArn: bus.eventBusArn });
  return { bus, registry };
}
