import type { DetailType } from "@reelbridge/events";

/**
 * Types of the one topology (ARCHITECTURE.md, principle 1). `topology.ts` declares every
 * subscription with these; `stacks/` turns each into a rule + target + DLQ + IAM, and the local
 * runtime subscribes the same handler with the same pattern and the same delivery semantics.
 */

/** An EventBridge event pattern (content filter), as JSON. */
export type EventPattern = Record<string, unknown>;

/** Where a subscription listens: S3's events arrive on the account's default bus. */
export type BusName = "default" | "pipeline";

/** EventBridge target retry policy (RetryPolicy on the target). */
export interface RetryPolicy {
  /** 0..185 */
  maximumRetryAttempts: number;
  /** 60..86400 */
  maximumEventAgeSeconds: number;
}

/**
 * direct: the rule targets the Lambda, invoked asynchronously (EventBridge retries, then Lambda's
 * own async retries, then the on-failure destination / DLQ).
 * queue: the rule targets an SQS queue; the Lambda consumes it with a bounded concurrency
 * (event source mapping maximumConcurrency), reports batch item failures, and a message that
 * fails maxReceiveCount times moves to the queue's DLQ.
 */
export type Delivery =
  | {
      kind: "direct";
      retry: RetryPolicy;
      /** Lambda async-invoke retries after EventBridge handed the event over (0..2). */
      asyncRetryAttempts: 0 | 1 | 2;
    }
  | {
      kind: "queue";
      retry: RetryPolicy;
      /** Stage-config key whose value is the consumer's maximum concurrency (>= 2 in AWS). */
      concurrencyKey: ConcurrencyKey;
      /** Messages per batch handed to one invocation. */
      batchSize: number;
      /** Seconds a received message stays invisible; must exceed the handler timeout. */
      visibilityTimeoutSeconds: number;
      /** Receives before a message moves to the DLQ. */
      maxReceiveCount: number;
    };

export type ConcurrencyKey = "ltx" | "render" | "segmenter" | "notifier" | "supabase";

/**
 * What a handler may touch. stacks/ turns these into least-privilege IAM statements.
 * `events:put` names the event types the function publishes: IAM lets it PutEvents with their
 * sources and detail-types only (the catalog in @reelbridge/events says each type's source), so
 * no function can publish as another (issue #11 item 3).
 */
export type Permission =
  | { kind: "s3:read"; prefix: string }
  | { kind: "s3:write"; prefix: string }
  | { kind: "events:put"; detailTypes: readonly DetailType[] }
  | { kind: "jobs:read" }
  | { kind: "jobs:write" }
  /** The owners' daily budget items in the jobs table (pk BUDGET#…): read and atomic UpdateItem only. */
  | { kind: "budget:reserve" }
  /**
   * The job ledger's "job-signed" record (core jobs/ledger.ts): PutItem only, on job items (pk
   * JOB#…), so the owner of a job still queued for the LTX step can cancel it.
   */
  | { kind: "jobs:sign" }
  | { kind: "secret"; name: SecretName }
  | { kind: "remotion:render" }
  /** cancelRenderOnLambda: read a render's progress.json and write its cancel.json in Remotion's own bucket. */
  | { kind: "remotion:cancel" };

/**
 * Native binaries from npm packages that a function's zip carries: the same files the tests run
 * (stacks/lib/native.ts, docs/decisions/0007). They decide the function's architecture.
 */
export type NativeDependency = "sharp" | "ffmpeg";

export type SecretName = "LTX_API_KEY" | "REMOTION_WEBHOOK_SECRET" | "NOTIFY_WEBHOOK_SECRET" | "SUPABASE_DB_URL";

/**
 * Parts of the pipeline a stage turns on in its config (stage-config.ts stageFeatures): a
 * subscription that `requires` one exists on that stage only, in stacks/ and in the local runtime.
 */
export type StageFeature = "supabase";

/** What every function of the topology may declare about how it ships and what it reaches. */
export interface Shipping {
  /**
   * Endpoints of the topology whose URL this function needs (the render step gives Remotion the
   * render webhook's URL). stacks/ and the local runtime both pass each as the environment
   * variable `endpointUrlEnv(name)`; nothing branches on a function's name.
   */
  reaches?: string[];
  /** Native code the function ships (a nodejs24.x zip either way). */
  native?: NativeDependency[];
  /** /tmp size, when the default 512 MB is not enough. */
  diskMB?: number;
}

export interface Subscription extends Shipping {
  /** Stable, kebab-case; names the rule, queue, DLQ and function. */
  name: string;
  description: string;
  bus: BusName;
  pattern: EventPattern;
  /** Handler path relative to the repo root, SST style: "packages/functions/src/ltx.handler". */
  handler: string;
  delivery: Delivery;
  timeoutSeconds: number;
  memoryMB: number;
  permissions: Permission[];
  /** A stage feature this subscription exists for; absent = on every stage. */
  requires?: StageFeature;
}

/** A function reached over HTTP (a Lambda Function URL in AWS, a local route offline). */
export interface Endpoint extends Shipping {
  name: string;
  description: string;
  handler: string;
  /** Routes the handler serves, for the local runtime and the docs. */
  routes: string[];
  /** Whether the stage's JWT auth applies (checked by the handler, not by the URL). */
  auth: "jwt-if-configured" | "signature";
  timeoutSeconds: number;
  memoryMB: number;
  permissions: Permission[];
}

/** A function run on a schedule (EventBridge Scheduler in AWS, a timer offline). */
export interface Schedule extends Shipping {
  name: string;
  description: string;
  handler: string;
  everyMinutes: number;
  timeoutSeconds: number;
  memoryMB: number;
  permissions: Permission[];
}
