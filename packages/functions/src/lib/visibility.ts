import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { TransientError } from "@reelbridge/core";
import { backoffMs } from "@reelbridge/core/backoff";

/**
 * When a queued record fails, SQS redelivers it once its visibility timeout runs out, and the
 * queues' timeouts are sized for the longest run (3,600 s for LTX), not for a retry. So before a
 * record is reported as failed its visibility is set to the delay it should wait: the error's
 * own Retry-After when it has one, else exponential backoff by receive count.
 */

export interface VisibilityChange {
  queueUrl: string;
  receiptHandle: string;
  visibilityTimeoutSeconds: number;
  /**
   * Why: "check" is a step's scheduled re-check (CheckLaterError, not a failure), "retry" a
   * failure's redelivery delay. SQS ignores it; the local runtime obeys the delay of a check and
   * keeps its own short backoff for retries.
   */
  reason?: "check" | "retry";
}
export type ChangeVisibility = (change: VisibilityChange) => Promise<void>;

/** SQS's maximum visibility timeout (12 h). */
export const MAX_VISIBILITY_SECONDS = 43_200;
/** Backoff without a hint: 10 s, 20 s, 40 s … up to 15 min. */
export const BACKOFF_BASE_SECONDS = 10;
export const BACKOFF_MAX_SECONDS = 900;

/**
 * Seconds a failed record should wait before its next delivery. A TransientError's
 * retryAfterSeconds is honoured as given; otherwise min(900, 10·2^(attempt-1)) with equal jitter
 * (half fixed, half random) so records that failed together do not return together.
 */
export function redeliveryDelaySeconds(err: unknown, attempt: number, random: () => number = Math.random): number {
  if (err instanceof TransientError && err.retryAfterSeconds !== undefined && Number.isFinite(err.retryAfterSeconds)) {
    return Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(err.retryAfterSeconds)));
  }
  return backoffMs(attempt, { baseMs: BACKOFF_BASE_SECONDS, maxMs: BACKOFF_MAX_SECONDS, random });
}

const DOMAINS: Record<string, string> = { aws: "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com" };

/** arn:aws:sqs:<region>:<account>:<name> → https://sqs.<region>.amazonaws.com/<account>/<name> (undefined if not a queue ARN). */
export function queueUrlFromArn(arn: string): string | undefined {
  const m = /^arn:([a-z-]+):sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/.exec(arn);
  if (!m) return undefined;
  const [, partition, region, account, name] = m;
  const domain = DOMAINS[partition!];
  return domain ? `https://sqs.${region}.${domain}/${account}/${name}` : undefined;
}

/** The AWS changer: one ChangeMessageVisibility call per failed record. */
export function createSqsVisibilityChanger(client: Pick<SQSClient, "send">): ChangeVisibility {
  return async ({ queueUrl, receiptHandle, visibilityTimeoutSeconds }) => {
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: visibilityTimeoutSeconds }));
  };
}

/** For runtimes whose queue backs off by itself (the local bus): change nothing. */
export const keepVisibility: ChangeVisibility = async () => undefined;
