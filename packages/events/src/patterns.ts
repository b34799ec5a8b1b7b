import type { Data, DetailType, PipelineEvents } from "./events";
import { pipelineEvents } from "./events";
import { OBJECT_CREATED, S3_SOURCE } from "./s3";

/**
 * Typed builders for EventBridge event patterns over the pipeline's events, so a consumer
 * writes a rule without typing detail-type or source strings by hand, and a typo in a field
 * path is a compile error:
 *
 *   on("RenderCompleted", { data: { job: { aspect: ["9:16"] } } })
 *   // { source: ["reelbridge.render"], "detail-type": ["RenderCompleted"],
 *   //   detail: { data: { job: { aspect: ["9:16"] } } } }
 */

type Scalar = string | number | boolean | null;

/** One EventBridge content-filter matcher for a value of type V. */
export type Matcher<V> =
  | (V extends Scalar ? V : never)
  | (V extends string
      ? { prefix: string } | { suffix: string } | { "equals-ignore-case": string } | { wildcard: string }
      : never)
  | (V extends number ? { numeric: (string | number)[] } : never)
  | { exists: boolean }
  | { "anything-but": Scalar | Scalar[] | { prefix: string } | { suffix: string } | { "equals-ignore-case": string | string[] } }
  | { cidr: string };

type Elem<V> = V extends readonly (infer E)[] ? E : V;

/** A content filter over an object type: nested objects recurse, leaves take matcher lists. */
export type Filter<T> = {
  [K in keyof T]?: NonNullable<Elem<T[K]>> extends infer V
    ? V extends Scalar
      ? Matcher<V>[]
      : V extends object
        ? Filter<V>
        : never
    : never;
} & { $or?: Filter<T>[] };

export type DetailFilter<T extends DetailType> = Filter<{ metadata: { jobId: string; producer: string; schemaVersion: string }; data: Data<T> }>;

export interface EventPatternJson {
  source: string[];
  "detail-type": string[];
  detail?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A pattern for one pipeline event type, optionally narrowed by its detail. */
export function on<T extends DetailType>(type: T, detail?: DetailFilter<T>): EventPatternJson {
  const def: PipelineEvents[T] = pipelineEvents[type];
  return {
    source: [def.source],
    "detail-type": [type],
    ...(detail && Object.keys(detail).length > 0 ? { detail: detail as Record<string, unknown> } : {}),
  };
}

/**
 * A pattern for several pipeline event types at once (their sources and detail-types), e.g.
 * every failure: `onAny(["VideoBaseFailed", "RenderFailed", "SegmentsFailed"])`.
 */
export function onAny(types: readonly DetailType[], detail?: Record<string, unknown>): EventPatternJson {
  if (types.length === 0) throw new Error("onAny needs at least one detail-type");
  const sources = [...new Set(types.map((t) => pipelineEvents[t].source))].sort();
  return {
    source: sources,
    "detail-type": [...types],
    ...(detail ? { detail } : {}),
  };
}

/** S3 "Object Created" on the default bus, for one bucket and a key prefix. */
export function s3ObjectCreated(opts: { bucket: string; keyPrefix: string }): EventPatternJson {
  return {
    source: [S3_SOURCE],
    "detail-type": [OBJECT_CREATED],
    detail: {
      bucket: { name: [opts.bucket] },
      object: { key: [{ prefix: opts.keyPrefix }] },
    },
  };
}

/** Shorthands for the common consumer rules. */
export const patterns = {
  on,
  onAny,
  s3ObjectCreated,
  /** All RenderCompleted events of jobs with the given aspect. */
  renderCompleted: (opts: { aspect?: "9:16" | "16:9"; owner?: string } = {}) =>
    on("RenderCompleted", {
      data: {
        job: {
          ...(opts.aspect ? { aspect: [opts.aspect] } : {}),
          ...(opts.owner ? { owner: [opts.owner] } : {}),
        },
      },
    } as DetailFilter<"RenderCompleted">),
  /** Every JobCancelled, or one owner's (their jobs cancelled through POST /jobs/{jobId}/cancel). */
  jobCancelled: (opts: { owner?: string } = {}) =>
    on("JobCancelled", opts.owner ? ({ data: { job: { owner: [opts.owner] } } } as DetailFilter<"JobCancelled">) : undefined),
  /**
   * RenderCompleted of re-renders only (version 2 and later): `version` is absent on a job's first
   * render, and EventBridge's numeric matcher never matches a missing field.
   */
  rerenderCompleted: () => on("RenderCompleted", { data: { version: [{ numeric: [">=", 2] }] } }),
  /** Every event of one job, whatever its type. */
  job: (jobId: string) =>
    onAny(Object.keys(pipelineEvents) as DetailType[], { metadata: { jobId: [jobId] } }),
};
