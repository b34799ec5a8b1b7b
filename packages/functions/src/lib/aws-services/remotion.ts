import { createRemotionLambdaProgress, createRemotionLambdaRenderer } from "@reelbridge/core/adapters/aws/remotion-lambda-renderer";
import type { AwsContext } from "../aws-platform";
import type { Platform } from "../platform";

/** Remotion Lambda (stage config remotion.*): renders into the media bucket, reports by webhook. */
export const awsRemotionRenderer = ({ config, env }: AwsContext): Platform["renderer"] => ({ webhookSecret }) =>
  createRemotionLambdaRenderer({ region: config.remotion.region, functionName: config.remotion.functionName, serveUrl: config.remotion.serveUrl, bucket: env.mediaBucket, webhookSecret });

/** getRenderProgress on the stage's Remotion function, for the watchdog. */
export const awsRemotionProgress = ({ config }: AwsContext): Platform["renderProgress"] => () =>
  createRemotionLambdaProgress({ region: config.remotion.region, functionName: config.remotion.functionName });
