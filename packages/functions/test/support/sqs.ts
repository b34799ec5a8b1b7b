import type { SQSEvent } from "aws-lambda";

/**
 * An SQS batch of one record whose body is `body`, as Lambda hands a queued step the event the
 * rule put on its queue. `receiveCount` is SQS's ApproximateReceiveCount (1 = first delivery).
 */
export function sqsEvent(body: unknown, opts: { queue: string; receiveCount?: number; messageId?: string }): SQSEvent {
  return {
    Records: [
      {
        messageId: opts.messageId ?? "m-1",
        receiptHandle: "r-1",
        body: JSON.stringify(body),
        attributes: { ApproximateReceiveCount: String(opts.receiveCount ?? 1), SentTimestamp: "0", SenderId: "x", ApproximateFirstReceiveTimestamp: "0" },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:eu-west-1:111122223333:${opts.queue}`,
        awsRegion: "eu-west-1",
      },
    ],
  };
}
