/**
 * THE price table (one definition per price): every amount a job's cost lines are computed
 * from, each with its source and the date it was read. Change a price here, with its source.
 *
 * Provenance: the LTX-2 figures are copied from /work/shared/REFERENCE.md §1.5, which quotes
 * docs.ltx.video/pricing (secondary: repository copies of that page updated 2026-08-24). The AWS
 * figures are us-east-1 on-demand list prices as published on aws.amazon.com/<service>/pricing;
 * they were NOT re-read from AWS for this table (no network): they are the long-standing list
 * prices (Lambda, EventBridge, SQS, S3) and the on-demand DynamoDB price after AWS's
 * 2024-11-01 reduction, cross-checked against third-party summaries. Treat them as estimates
 * and re-check before billing anyone with them.
 */
import type { LtxModel } from "../adapters/ltx/contract";

export interface PriceSource {
  url: string;
  /** When the figure was read (ISO date). */
  asOf: string;
  /** How sure we are: "secondary" = a copy of the vendor's page; "list-price, unverified" = not re-read. */
  confidence: "official" | "secondary" | "list-price, unverified";
}

/** LTX-2 output tiers by the shorter side of the frame. */
export const LTX_TIERS = ["720p", "1080p", "1440p", "2160p"] as const;
export type LtxTier = (typeof LTX_TIERS)[number];

/** USD per second of output, by model and tier; absent = the model does not offer that tier. */
export const LTX_PRICE_PER_SECOND: Record<LtxModel, Partial<Record<LtxTier, number>>> = {
  "ltx-2-fast": { "1080p": 0.04, "1440p": 0.08, "2160p": 0.16 },
  "ltx-2-pro": { "1080p": 0.06, "1440p": 0.12, "2160p": 0.24 },
  // From 2026-04-01 (previously $0.04 / $0.06 at 1080p).
  "ltx-2-3-fast": { "720p": 0.03, "1080p": 0.06, "1440p": 0.12, "2160p": 0.24 },
  "ltx-2-3-pro": { "720p": 0.04, "1080p": 0.08, "1440p": 0.16, "2160p": 0.32 },
  // Launched 2026-08-11.
  "ltx-2-5-fast": { "720p": 0.09, "1080p": 0.13, "1440p": 0.19, "2160p": 0.3 },
  "ltx-2-5-pro": { "720p": 0.12, "1080p": 0.17 },
};
export const LTX_PRICE_SOURCE: PriceSource = { url: "https://docs.ltx.video/pricing", asOf: "2026-08-24", confidence: "secondary" };

/** The offline generator (FFmpeg on this machine) is free: its line says so. */
export const OFFLINE_GENERATOR_PRICE_PER_SECOND = 0;

export type LambdaArch = "x86_64" | "arm64";

/** AWS Lambda, us-east-1, first pricing tier. */
export const LAMBDA_PRICES = {
  perGbSecond: { x86_64: 0.0000166667, arm64: 0.0000133334 } satisfies Record<LambdaArch, number>,
  /** $0.20 per million requests, both architectures. */
  perRequest: 0.2 / 1e6,
  source: { url: "https://aws.amazon.com/lambda/pricing/", asOf: "2026-12-02", confidence: "list-price, unverified" } satisfies PriceSource,
} as const;

/** EventBridge custom events: $1.00 per million events published (64 KB chunks). */
export const EVENTBRIDGE_PRICES = {
  perEvent: 1 / 1e6,
  source: { url: "https://aws.amazon.com/eventbridge/pricing/", asOf: "2026-12-02", confidence: "list-price, unverified" } satisfies PriceSource,
} as const;

/** SQS standard queues: $0.40 per million requests (64 KB chunks) after the free tier. */
export const SQS_PRICES = {
  perRequest: 0.4 / 1e6,
  source: { url: "https://aws.amazon.com/sqs/pricing/", asOf: "2026-12-02", confidence: "list-price, unverified" } satisfies PriceSource,
} as const;

/** S3 Standard: PUT/COPY/POST/LIST $0.005 per 1,000; GET/SELECT $0.0004 per 1,000. */
export const S3_PRICES = {
  perPut: 0.005 / 1000,
  perGet: 0.0004 / 1000,
  source: { url: "https://aws.amazon.com/s3/pricing/", asOf: "2026-12-02", confidence: "list-price, unverified" } satisfies PriceSource,
} as const;

/** DynamoDB on-demand (from 2024-11-01): $0.625 per million write request units, $0.125 per million read request units. */
export const DYNAMODB_PRICES = {
  perWriteUnit: 0.625 / 1e6,
  perReadUnit: 0.125 / 1e6,
  source: { url: "https://aws.amazon.com/dynamodb/pricing/on-demand/", asOf: "2026-12-02", confidence: "list-price, unverified" } satisfies PriceSource,
} as const;
