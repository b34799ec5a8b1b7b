import type { JobStatus, JobView } from "./api";

export type StepState = "done" | "current" | "pending" | "failed";
export interface Step {
  id: "upload" | "base" | "render" | "package";
  label: string;
  state: StepState;
}

const rank: Record<JobStatus, number> = { uploaded: 0, generating: 1, generated: 2, rendering: 3, rendered: 4, completed: 5, failed: -1, cancelled: -1 };

/**
 * label: next or failed; activeLabel: under way (status at activeAt or its event on the
 * timeline); doneLabel: finished. Before a step is under way it may still be waiting in a queue.
 */
const defs = [
  { id: "upload", label: "Upload the photo", activeLabel: "Uploading the photo", doneLabel: "Photo uploaded", activeAt: 0, doneAt: 0, startedBy: [] as string[], doneBy: [] as string[], failedBy: [] as string[] },
  {
    id: "base",
    label: "Animate the photo",
    activeLabel: "Animating the photo",
    doneLabel: "Photo animated",
    activeAt: 1,
    doneAt: 2,
    startedBy: ["VideoBaseStarted"],
    doneBy: ["VideoBaseReady"],
    failedBy: ["VideoBaseFailed"],
  },
  {
    id: "render",
    label: "Render the branded video",
    activeLabel: "Rendering the branded video",
    doneLabel: "Branded video rendered",
    activeAt: 3,
    doneAt: 4,
    startedBy: ["RenderStarted"],
    doneBy: ["RenderCompleted"],
    failedBy: ["RenderFailed"],
  },
  {
    id: "package",
    label: "Prepare streaming, clips and poster",
    activeLabel: "Preparing streaming, clips and poster",
    doneLabel: "Streaming, clips and poster ready",
    activeAt: 4,
    doneAt: 5,
    startedBy: [],
    doneBy: ["SegmentsReady"],
    failedBy: ["SegmentsFailed"],
  },
] as const;

/** What the steps are derived from: a job view's status, timeline entry types and failure. */
export interface StepInput {
  status: JobStatus;
  timeline: ReadonlyArray<Pick<JobView["timeline"][number], "type">>;
  failure?: { code: string; message: string; type?: string } | undefined;
}

/** The job's four user-visible steps, derived from its status and the events on its timeline. */
export function jobSteps(job: StepInput): Step[] {
  const seen = new Set(job.timeline.map((t) => t.type));
  const r = rank[job.status];
  const failedType = job.failure?.type;
  let current = false;
  return defs.map((d) => {
    const done = r >= d.doneAt || d.doneBy.some((t) => seen.has(t)) || d.id === "upload";
    if (done) return { id: d.id, label: d.doneLabel, state: "done" };
    // A cancelled job (POST /jobs/{jobId}/cancel) has nothing under way: what was not done never will be.
    if (job.status === "cancelled") return { id: d.id, label: d.label, state: "pending" };
    if (job.status === "failed") {
      const failedHere = failedType ? (d.failedBy as readonly string[]).includes(failedType) || d.failedBy.some((t) => seen.has(t)) : !current;
      if (failedHere && !current) {
        current = true;
        return { id: d.id, label: d.label, state: "failed" };
      }
      return { id: d.id, label: d.label, state: "pending" };
    }
    if (!current) {
      current = true;
      const active = r >= d.activeAt || d.startedBy.some((t) => seen.has(t));
      return { id: d.id, label: active ? d.activeLabel : d.label, state: "current" };
    }
    return { id: d.id, label: d.label, state: "pending" };
  });
}

export const statusLabel: Record<JobStatus, string> = {
  uploaded: "Uploaded, waiting to start",
  generating: "Animating the photo",
  generated: "Photo animated, waiting to render",
  rendering: "Rendering the branded video",
  rendered: "Rendered, preparing streaming and clips",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};
