import type { Job, JobStatus } from "./api";

export type StepState = "done" | "current" | "pending" | "failed";
export interface Step {
  id: "upload" | "base" | "render" | "package";
  label: string;
  state: StepState;
}

const rank: Record<JobStatus, number> = { uploaded: 0, generating: 1, generated: 2, rendering: 3, rendered: 4, completed: 5, failed: -1 };

const defs = [
  { id: "upload", label: "Upload the photo", doneLabel: "Photo uploaded", doneAt: 0, doneBy: [] as string[], failedBy: [] as string[] },
  { id: "base", label: "Animate the photo", doneLabel: "Photo animated", doneAt: 2, doneBy: ["VideoBaseReady"], failedBy: ["VideoBaseFailed"] },
  { id: "render", label: "Render the branded video", doneLabel: "Branded video rendered", doneAt: 4, doneBy: ["RenderCompleted"], failedBy: ["RenderFailed"] },
  { id: "package", label: "Prepare streaming, clips and poster", doneLabel: "Streaming, clips and poster ready", doneAt: 5, doneBy: ["SegmentsReady"], failedBy: ["SegmentsFailed"] },
] as const;

/** The job's four user-visible steps, derived from its status and the events on its timeline. */
export function jobSteps(job: Pick<Job, "status" | "timeline" | "failure">): Step[] {
  const seen = new Set(job.timeline.map((t) => t.type));
  const r = rank[job.status];
  const failedType = job.failure?.type;
  let current = false;
  return defs.map((d) => {
    const done = r >= d.doneAt || d.doneBy.some((t) => seen.has(t)) || d.id === "upload";
    if (done) return { id: d.id, label: d.doneLabel, state: "done" };
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
      return { id: d.id, label: d.label, state: "current" };
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
};
