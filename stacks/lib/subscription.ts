import { Duration } from "aws-cdk-lib";
import type * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Function as SstFunction, FunctionProps, Stack } from "sst/constructs";
import type { Subscription } from "../../packages/functions/src/topology";
import type { StageConfig } from "../../packages/functions/src/stage-config";
import { deadLetterQueue } from "./dlq";
import { pascal, topologyFunction } from "./functions";
import type { FunctionResources } from "./functions";
import { ruleWithPattern } from "./rule";

export interface BuiltSubscription {
  subscription: Subscription;
  fn: SstFunction;
  rule: events.Rule;
  dlq: sqs.Queue;
  queue?: sqs.Queue;
}


/**
 * The generic builder: one topology subscription becomes
 *   - a rule on its bus with exactly the subscription's pattern,
 *   - its target: the Lambda (async invoke) or an SQS queue consumed by the Lambda with a
 *     maximum concurrency and batch-item failure reporting,
 *   - a retry policy and a DLQ on the target, Lambda async retries and an on-failure
 *     destination (direct) or the queue's redrive policy (queued), all into the same DLQ,
 *   - an alarm on that DLQ, and one role with least privilege for the function.
 */
export function buildSubscription(
  stack: Stack,
  sub: Subscription,
  r: FunctionResources & { buses: Record<Subscription["bus"], events.IEventBus> },
  config: StageConfig,
  extra: Partial<FunctionProps> = {},
): BuiltSubscription {
  const id = pascal(sub.name);
  const { queue: dlq } = deadLetterQueue(stack, `${id}Dlq`);
  const fn = topologyFunction(stack, id, sub, r, extra);
  const rule = ruleWithPattern(stack, `${id}Rule`, {
    bus: r.buses[sub.bus],
    pattern: sub.pattern,
    ruleName: `${stack.stage}-reelbridge-${sub.name}`,
    description: sub.description,
  });
  const retry = {
    retryAttempts: sub.delivery.retry.maximumRetryAttempts,
    maxEventAge: Duration.seconds(sub.delivery.retry.maximumEventAgeSeconds),
    deadLetterQueue: dlq,
  };

  if (sub.delivery.kind === "direct") {
    rule.addTarget(new targets.LambdaFunction(fn, retry));
    fn.configureAsyncInvoke({
      retryAttempts: sub.delivery.asyncRetryAttempts,
      maxEventAge: Duration.seconds(Math.min(sub.delivery.retry.maximumEventAgeSeconds, 21_600)),
      onFailure: new destinations.SqsDestination(dlq),
    });
    return { subscription: sub, fn, rule, dlq };
  }

  const queue = new sqs.Queue(stack, `${id}Queue`, {
    visibilityTimeout: Duration.seconds(sub.delivery.visibilityTimeoutSeconds),
    retentionPeriod: Duration.days(4),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    deadLetterQueue: { queue: dlq, maxReceiveCount: sub.delivery.maxReceiveCount },
  });
  rule.addTarget(new targets.SqsQueue(queue, retry));
  fn.addEventSource(
    new SqsEventSource(queue, {
      batchSize: sub.delivery.batchSize,
      maxConcurrency: config.concurrency[sub.delivery.concurrencyKey],
      reportBatchItemFailures: true,
    }),
  );
  return { subscription: sub, fn, rule, dlq, queue };
}
