/**
 * Ports of the render component beyond core's Renderer (ports.ts): the in-flight index the
 * watchdog lists, and Remotion's getRenderProgress.
 */

export interface InFlightRender {
  jobId: string;
  renderId: string;
  /** ISO time the render was started; with jobId, the entry's key. */
  startedAt: string;
  /** The render version (absent: 1), whose render record the watchdog reads; part of the key, so two versions started in the same millisecond keep two entries. */
  version?: number;
}

/**
 * Renders that were started and have no recorded outcome yet. The render step adds an entry
 * once the renderId is recorded; the outcome (webhook or watchdog) removes it. The watchdog lists
 * the old ones. Adds and removes are idempotent.
 */
export interface RenderIndex {
  add(entry: InFlightRender): Promise<void>;
  remove(entry: { jobId: string; startedAt: string; version?: number }): Promise<void>;
  /** Entries started strictly before `olderThan`, oldest first. */
  listInFlight(olderThan: Date, opts?: { limit?: number }): Promise<InFlightRender[]>;
}

/** What startRender gets back from Renderer.start (the AWS adapter also returns Remotion's bucket). */
export interface RenderStartResult {
  renderId: string;
  bucketName?: string;
}

/** A renderer's answer to "how is this render doing?" (Remotion's getRenderProgress, trimmed). */
export interface RenderProgressSnapshot {
  done: boolean;
  /** Remotion's fatalErrorEncountered: stop polling, the render failed. */
  fatalErrorEncountered: boolean;
  overallProgress: number;
  errors: Array<{ name?: string; message: string }>;
  outputSizeInBytes?: number | null;
  timeToFinishMs?: number | null;
  costs?: { estimated: number; currency: string; disclaimer?: string } | null;
}

export type GetRenderProgress = (q: { renderId: string; bucketName?: string }) => Promise<RenderProgressSnapshot>;
