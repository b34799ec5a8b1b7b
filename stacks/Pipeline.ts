import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import type { StackContext } from "sst/constructs";
import { use } from "sst/constructs";
import { endpointUrlEnv, schedules, subscriptions } from "../packages/functions/src/topology";
import { Api } from "./Api";
import { Bus } from "./Bus";
import { deadLetterQueue } from "./lib/dlq";
import { pascal, topologyFunction } from "./lib/functions";
import { stageFeatures } from "../packages/functions/src/stage-config";
import { useStageConfig } from "./lib/stage";
import { buildSubscription } from "./lib/subscription";
import { Storage } from "./Storage";

/** Retries of a scheduled run that failed to start or threw (EventBridge's, then Lambda's). */
const SCHEDULE_RETRY_ATTEMPTS = 2;

/**
 * The choreography: every subscription of the topology becomes its rule, target, queue, DLQ,
 * alarm and function (stacks/lib/subscription.ts); schedules become scheduled rules.
 */
export function Pipeline({ stack, app }: StackContext) {
  const { bucket, table, secrets } = use(Storage);
  const { bus } = use(Bus);
  const { endpoints } = use(Api);
  const config = useStageConfig(app);
  const defaultBus = events.EventBus.fromEventBusName(stack, "DefaultBus", "default");
  const resources = { bucket, table, bus, secrets, buses: { default: defaultBus, pipeline: bus } };

  // What a subscription reaches (topology `reaches`): each endpoint's Function URL, as its env var.
  // Only what the stage turns on (topology `requires`, stage config): no Supabase project, no sink.
  const built = subscriptions({ mediaBucket: bucket.bucketName, features: stageFeatures(config) }).map((sub) =>
    buildSubscription(stack, sub, resources, config, {
      environment: Object.fromEntries((sub.reaches ?? []).map((name: string) => {
        const fn = endpoints[name];
        if (!fn?.url) throw new Error(`${sub.name} reaches "${name}", which is no endpoint of the topology`);
        return [endpointUrlEnv(name), fn.url];
      })),
    }),
  );

  // A schedule fails like a subscription does: the target retries, then its DLQ (with an alarm)
  // gets what never ran, and Lambda's own async retries end there too. Events older than one
  // period are dropped: the next run does the same work.
  for (const s of schedules) {
    const id = pascal(s.name);
    const fn = topologyFunction(stack, id, s, resources);
    const { queue: dlq } = deadLetterQueue(stack, `${id}Dlq`);
    const maxEventAge = Duration.minutes(s.everyMinutes);
    new events.Rule(stack, `${id}Schedule`, {
      schedule: events.Schedule.rate(Duration.minutes(s.everyMinutes)),
      targets: [new targets.LambdaFunction(fn, { deadLetterQueue: dlq, retryAttempts: SCHEDULE_RETRY_ATTEMPTS, maxEventAge })],
    });
    fn.configureAsyncInvoke({ retryAttempts: SCHEDULE_RETRY_ATTEMPTS, maxEventAge, onFailure: new destinations.SqsDestination(dlq) });
  }

  // Remotion Lambda's own role writes the final video into our bucket (outName, privacy no-acl).
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "RemotionWritesFinalVideos",
      principals: [new iam.ArnPrincipal(`arn:aws:iam::${stack.account}:role/remotion-lambda-role`)],
      actions: ["s3:PutObject", "s3:GetObject"],
      resources: [bucket.arnForObjects("jobs/*/final.mp4")],
    }),
  );

  return { subscriptions: built };
}

