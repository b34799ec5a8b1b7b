/**
 * The cost ledger's arithmetic (issue #13 items 1 and 2): cost lines with their basis, sums that
 * do not depend on order, the LTX and Lambda lines, and the quote POST /uploads returns.
 *
 * The shapes (CostLine, JobCost) are public contracts in @reelbridge/events (cost.ts); the
 * prices are in ./prices.ts, each with its source and date. Steps put the lines of what they
 * paid on the events that end them (`stepCost`, additive within v1); the reducer sums the lines
 * of every event into the job record (`cost`, and `cost_usd` in the generated_videos row).
 */
import type { CostLine, JobCost } from "@reelbridge/events";
import type { LtxModel } from "../adapters/ltx/contract";
import { targetResolution } from "../media/resolution";
import type { Aspect } from "../media/resolution";
import {
  DYNAMODB_PRICES,
  EVENTBRIDGE_PRICES,
  LAMBDA_PRICES,
  LTX_PRICE_PER_SECOND,
  LTX_PRICE_SOURCE,
  S3_PRICES,
  SQS_PRICES,
} from "./prices";
import type { LambdaArch, LtxTier } from "./prices";

export type { CostLine, JobCost } from "@reelbridge/events";
export type { LambdaArch, LtxTier } from "./prices";

const NANOS = 1e9;
/** Dollars rounded to a nano-dollar, the ledger's precision. */
export const roundUsd = (usd: number): number => Math.round(usd * NANOS) / NANOS;
const toNanos = (usd: number): number => Math.round(usd * NANOS);

export { formatUsd } from "@reelbridge/events";

/** A line from its quantity and unit price; `usd` is their product, rounded. */
export function costLine(l: Omit<CostLine, "usd">): CostLine {
  return { ...l, usd: roundUsd(l.quantity * l.unitPriceUsd) };
}

/** The lines with their total, summed in integer nano-dollars: the same for any order of the lines. */
export function sumCost(lines: readonly CostLine[]): JobCost {
  let nanos = 0;
  for (const l of lines) nanos += toNanos(l.usd);
  return { lines: [...lines], totalUsd: nanos / NANOS };
}

export const emptyCost = (): JobCost => ({ lines: [], totalUsd: 0 });

// ---- LTX ----------------------------------------------------------------------------------

/** The price tier of a frame: its shorter side (1080×1920 and 1920×1080 are both 1080p). */
export function ltxTier(width: number, height: number): LtxTier {
  const short = Math.min(width, height);
  if (short <= 720) return "720p";
  if (short <= 1080) return "1080p";
  if (short <= 1440) return "1440p";
  return "2160p";
}

export class UnpricedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnpricedError";
  }
}

export interface LtxCostInput {
  /** "ltx" is Lightricks' API (paid per second of output); "offline" is the FFmpeg generator (free). */
  provider: "ltx" | "offline";
  /** The model LTX bills (an LtxModel); for the offline generator, whatever it reports. */
  model: LtxModel | (string & {});
  /** Seconds of output billed (LTX bills the output's duration, not the generation time). */
  seconds: number;
  width: number;
  height: number;
  /** A quote, not a bill. */
  estimated?: boolean;
}

/**
 * The generation's line: seconds × the model's price at the frame's tier (prices.ts). The
 * offline generator pays nothing, and its line says what LTX would have charged. Throws
 * UnpricedError for a model/tier LTX does not sell (e.g. ltx-2-fast at 720p).
 */
export function ltxCost(i: LtxCostInput): CostLine {
  if (!(i.seconds >= 0) || !Number.isFinite(i.seconds)) throw new RangeError(`seconds must be a finite non-negative number, got ${i.seconds}`);
  const tier = ltxTier(i.width, i.height);
  const price = (LTX_PRICE_PER_SECOND as Partial<Record<string, Partial<Record<LtxTier, number>>>>)[i.model]?.[tier];
  const est = i.estimated ? { estimated: true } : {};
  const source = `${LTX_PRICE_SOURCE.url}, ${LTX_PRICE_SOURCE.asOf}`;
  if (i.provider === "offline") {
    // Nothing is paid whatever the model is called (the generator may report its own name).
    const wouldBe = price !== undefined ? `; ${i.model} at ${tier} would charge $${price}/s (${source})` : "";
    return costLine({
      item: "ltx-generation",
      basis: `${i.seconds} s by the offline generator (FFmpeg): nothing paid${wouldBe}`,
      quantity: i.seconds,
      unit: "s",
      unitPriceUsd: 0,
      ...est,
    });
  }
  if (price === undefined) throw new UnpricedError(`LTX does not price ${i.model} at ${tier} (${i.width}x${i.height})`);
  return costLine({
    item: "ltx-generation",
    basis: `${i.seconds} s of output × $${price}/s (${i.model}, ${tier}; ${source})`,
    quantity: i.seconds,
    unit: "s",
    unitPriceUsd: price,
    ...est,
  });
}

// ---- our Lambdas and the rest -------------------------------------------------------------

/**
 * Lambda compute: GB-seconds (each invocation's duration × its configured memory) × the price
 * of the architecture. `fn` names the function ("ltx-step"); the item is then "lambda:ltx-step".
 */
export function lambdaCost(gbSeconds: number, arch: LambdaArch, opts: { fn?: string; invocations?: number; estimated?: boolean } = {}): CostLine {
  if (!(gbSeconds >= 0) || !Number.isFinite(gbSeconds)) throw new RangeError(`gbSeconds must be a finite non-negative number, got ${gbSeconds}`);
  const price = LAMBDA_PRICES.perGbSecond[arch];
  const who = opts.fn ? `${opts.fn}, ` : "";
  const calls = opts.invocations !== undefined ? `${opts.invocations} invocation${opts.invocations === 1 ? "" : "s"}, ` : "";
  return costLine({
    item: opts.fn ? `lambda:${opts.fn}` : "lambda",
    basis: `${round3(gbSeconds)} GB-s (${who}${calls}${arch}) × $${price}/GB-s (${LAMBDA_PRICES.source.url}, ${LAMBDA_PRICES.source.asOf})`,
    quantity: gbSeconds,
    unit: "GB-s",
    unitPriceUsd: price,
    ...(opts.estimated ? { estimated: true } : {}),
    ...(opts.invocations !== undefined ? { invocations: opts.invocations } : {}),
  });
}

/** Lambda's per-request charge. */
export const lambdaRequestsCost = (requests: number, opts: { fn?: string; estimated?: boolean } = {}): CostLine =>
  costLine({
    item: opts.fn ? `lambda-requests:${opts.fn}` : "lambda-requests",
    basis: `${requests} Lambda request${requests === 1 ? "" : "s"} × $0.20 per million (${LAMBDA_PRICES.source.url})`,
    quantity: requests,
    unit: "request",
    unitPriceUsd: LAMBDA_PRICES.perRequest,
    ...(opts.estimated ? { estimated: true } : {}),
  });

/** EventBridge custom events published (what the pipeline puts on its bus). */
export const eventBridgeCost = (events: number, basis: string, opts: { estimated?: boolean } = {}): CostLine =>
  costLine({ item: "eventbridge", basis: `${basis} × $1.00 per million events (${EVENTBRIDGE_PRICES.source.url})`, quantity: events, unit: "event", unitPriceUsd: EVENTBRIDGE_PRICES.perEvent, ...(opts.estimated ? { estimated: true } : {}) });

const round3 = (n: number) => Math.round(n * 1000) / 1000;

// ---- the quote ----------------------------------------------------------------------------

/** Remotion Lambda per short render: the top of its documented range (REFERENCE.md §2.7: $0.001–0.021 for up to a 1-min video). */
export const REMOTION_RENDER_ESTIMATE_USD = 0.02;
/**
 * Our own Lambdas per job, GB-s, for the quote until measured figures replace it: issue #13's
 * target (≤ 5 GB-s) doubled, x86_64 (the LTX step and segmenter ship x86_64 binaries).
 */
export const ESTIMATED_LAMBDA_GB_S_PER_JOB = 10;
/** Requests a job makes of the "negligible" services (README's flow: 4 queued steps, ~8 events, ~20 objects). */
export const ESTIMATED_REQUESTS_PER_JOB = { lambdaInvocations: 8, busEvents: 9, sqsRequests: 15, s3Puts: 20, s3Gets: 20, dynamoWrites: 40, dynamoReads: 40 } as const;

export interface QuoteParams {
  aspect: Aspect;
  durationSeconds: number;
}

export interface QuoteConfig {
  ltx: { provider: "ltx" | "offline"; model: LtxModel };
  /** "remotion-lambda" (estimated per render) or "remotion-local" (this machine's Chromium: free). */
  renderer?: "remotion-lambda" | "remotion-local";
  /** Whether the quote includes a generation (false for a re-render from the stored base clip). */
  generation?: boolean;
}

/**
 * What a job will cost, before anything is paid: the generation (seconds × price, from the
 * duration and aspect asked for), the render (Remotion's per-render estimate), our Lambdas and
 * the services around them. Every line is `estimated`.
 */
export function quoteJob(params: QuoteParams, config: QuoteConfig): JobCost {
  const r = ESTIMATED_REQUESTS_PER_JOB;
  const est = { estimated: true } as const;
  const lines: CostLine[] = [];
  if (config.generation !== false) {
    const { width, height } = targetResolution(params.aspect);
    lines.push(ltxCost({ provider: config.ltx.provider, model: config.ltx.model, seconds: params.durationSeconds, width, height, estimated: true }));
  }
  const local = config.renderer === "remotion-local";
  lines.push(
    costLine({
      item: "remotion-render",
      basis: local
        ? "rendered on this machine (local Chromium): nothing paid"
        : `one render, Remotion Lambda's documented cost for a short video (up to $${REMOTION_RENDER_ESTIMATE_USD}); the actual figure comes from Remotion's webhook`,
      quantity: 1,
      unit: "render",
      unitPriceUsd: local ? 0 : REMOTION_RENDER_ESTIMATE_USD,
      ...est,
    }),
    lambdaCost(ESTIMATED_LAMBDA_GB_S_PER_JOB, "x86_64", est),
    lambdaRequestsCost(r.lambdaInvocations, est),
    eventBridgeCost(r.busEvents, `${r.busEvents} pipeline events`, est),
    costLine({ item: "sqs", basis: `${r.sqsRequests} queue requests × $0.40 per million (${SQS_PRICES.source.url})`, quantity: r.sqsRequests, unit: "request", unitPriceUsd: SQS_PRICES.perRequest, ...est }),
    costLine({ item: "s3:put", basis: `${r.s3Puts} PUT/POST requests × $0.005 per 1,000 (${S3_PRICES.source.url})`, quantity: r.s3Puts, unit: "request", unitPriceUsd: S3_PRICES.perPut, ...est }),
    costLine({ item: "s3:get", basis: `${r.s3Gets} GET requests × $0.0004 per 1,000 (${S3_PRICES.source.url})`, quantity: r.s3Gets, unit: "request", unitPriceUsd: S3_PRICES.perGet, ...est }),
    costLine({ item: "dynamodb:write", basis: `${r.dynamoWrites} write request units × $0.625 per million (${DYNAMODB_PRICES.source.url})`, quantity: r.dynamoWrites, unit: "write", unitPriceUsd: DYNAMODB_PRICES.perWriteUnit, ...est }),
    costLine({ item: "dynamodb:read", basis: `${r.dynamoReads} read request units × $0.125 per million (${DYNAMODB_PRICES.source.url})`, quantity: r.dynamoReads, unit: "read", unitPriceUsd: DYNAMODB_PRICES.perReadUnit, ...est }),
  );
  return sumCost(lines);
}

/** Remotion's own estimate for a render (its webhook's `costs`), as a line. */
export function remotionCost(c: { estimated: number; currency: string; disclaimer?: string }, renderer: string): CostLine | undefined {
  if (c.currency.toUpperCase() !== "USD") return undefined;
  return {
    item: "remotion-render",
    basis: `Remotion's estimate for the render (${renderer})${c.disclaimer ? `: ${c.disclaimer.slice(0, 300)}` : ""}`,
    quantity: 1,
    unit: "render",
    unitPriceUsd: roundUsd(c.estimated),
    usd: roundUsd(c.estimated),
    estimated: true,
  };
}

/**
 * The render's line on RenderCompleted/RenderFailed: Remotion's own estimate from its webhook
 * (or getRenderProgress) when it gave one in USD; else nothing for the local renderer, and for
 * Remotion Lambda the top of its documented range, flagged estimated (its error and timeout
 * webhooks carry no costs, but the render's Lambdas ran and were paid for).
 */
export function renderCostLine(renderer: string, costs: { estimated: number; currency: string; disclaimer?: string } | null | undefined, outcome: "completed" | "failed"): CostLine {
  const reported = costs ? remotionCost(costs, renderer) : undefined;
  if (reported) return reported;
  if (renderer === "remotion-local") {
    return costLine({ item: "remotion-render", basis: "rendered on this machine (local Chromium): nothing paid", quantity: 1, unit: "render", unitPriceUsd: 0 });
  }
  return costLine({
    item: "remotion-render",
    basis: `Remotion reported no cost for this ${outcome} render; estimated at the top of its documented range for a short video ($${REMOTION_RENDER_ESTIMATE_USD})`,
    quantity: 1,
    unit: "render",
    unitPriceUsd: REMOTION_RENDER_ESTIMATE_USD,
    estimated: true,
  });
}
