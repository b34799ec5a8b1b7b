import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createPublisher } from "@reelbridge/core";
import type { EventPublisher } from "@reelbridge/core";
import { createSqsVisibilityChanger } from "./visibility";
import type { ChangeVisibility } from "./visibility";

/** SDK clients, one per cold start. */
let s3: S3Client | undefined;
let eb: EventBridgeClient | undefined;
let ddb: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;

export const s3Client = () => (s3 ??= new S3Client({}));
export const eventBridgeClient = () => (eb ??= new EventBridgeClient({}));
/**
 * SQS sends each call to its QueueUrl's host unless told otherwise; an endpoint configured the
 * SDK's way (AWS_ENDPOINT_URL_SQS, as the other clients take theirs: the deploy smoke test's
 * local peers) is used instead.
 */
export const sqsClient = () => (sqs ??= new SQSClient({ useQueueUrlAsEndpoint: !process.env.AWS_ENDPOINT_URL_SQS }));
export const dynamoDocClient = () =>
  (ddb ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }));

/** Publishes pipeline events to the stage's bus through EventBridge's PutEvents. */
export function eventBridgePublisher(client: EventBridgeClient, opts: { busName: string; producer: string }): EventPublisher {
  return createPublisher((entries) => client.send(new PutEventsCommand({ Entries: entries })), opts);
}

/**
 * What a deployed queued handler sets a failed record's visibility with (SQS
 * ChangeMessageVisibility): each queued module passes it to its `handler`; tests and the local
 * runtime pass their own (the local bus backs off by itself).
 */
export const awsVisibilityChanger: ChangeVisibility = (change) => createSqsVisibilityChanger(sqsClient())(change);
