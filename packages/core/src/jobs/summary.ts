import type { DetailType, PipelineEvent } from "@reelbridge/events";

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(2)} MB`;
const secs = (s: number) => `${s.toFixed(1)} s`;
const clip = (s: string, max = 160) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** A short human summary of a pipeline event for the job's timeline; a re-render's events say their version. */
export function summarize(e: PipelineEvent<DetailType>): string {
  const v = (e.detail.data as { version?: unknown }).version;
  const text = summarizeOne(e);
  return typeof v === "number" && v > 1 && e["detail-type"] !== "RenderRequested" ? clip(`v${v}: ${text}`) : text;
}

function summarizeOne(e: PipelineEvent<DetailType>): string {
  switch (e["detail-type"]) {
    case "RenderRequested": {
      const d = e.detail.data;
      return clip(`re-render v${d.version} requested: "${d.job.title}", ${d.job.music}, ${d.job.aspect} (base clip reused)`);
    }
    case "JobCancelled":
      return `cancelled${e.detail.data.version ? ` (re-render v${e.detail.data.version})` : ""}${e.detail.data.previousStatus ? ` while ${e.detail.data.previousStatus}` : ""}`;
    case "VideoBaseStarted": {
      const g = e.detail.data.generator;
      return clip(`animating the photo on ${g.name}${g.model ? ` (${g.model})` : ""}, ${g.cameraMotion}, generation ${g.generationId}`);
    }
    case "VideoBaseReady": {
      const d = e.detail.data;
      return `base clip ${secs(d.baseVideo.durationSeconds)} ${d.baseVideo.width}×${d.baseVideo.height} by ${d.generator.name} in ${secs(d.generator.seconds)}`;
    }
    case "VideoBaseStopped": {
      const d = e.detail.data;
      return clip(`generation${d.generationId ? ` ${d.generationId}` : ""} no longer followed (${d.stoppedBecause})${d.stepCost ? `; the step had paid $${d.stepCost.totalUsd}` : ""}`);
    }
    case "VideoBaseFailed":
      return clip(`base clip failed: ${e.detail.data.reason.code}: ${e.detail.data.reason.message}`);
    case "RenderStarted":
      return `render ${e.detail.data.renderId} started on ${e.detail.data.renderer}`;
    case "RenderCompleted": {
      const d = e.detail.data;
      return `final video ${secs(d.video.durationSeconds)} ${d.video.width}×${d.video.height}, ${mb(d.video.sizeBytes)}, rendered in ${secs(d.timeToFinishMs / 1000)}`;
    }
    case "RenderFailed":
      return clip(`render failed: ${e.detail.data.reason.code}: ${e.detail.data.reason.message}`);
    case "SegmentsReady": {
      const d = e.detail.data;
      return `HLS (${d.hls.segmentKeys.length} segments), ${d.clips.length} clips and a poster`;
    }
    case "SegmentsFailed":
      return clip(`packaging failed: ${e.detail.data.reason.code}: ${e.detail.data.reason.message}`);
    case "NotificationDelivered": {
      const d = e.detail.data;
      return clip(`webhook ${d.webhookType} delivered to ${d.endpoint.url} (${d.statusCode}, ${d.attempts} attempt${d.attempts === 1 ? "" : "s"})`);
    }
    case "NotificationFailed": {
      const d = e.detail.data;
      return clip(`webhook ${d.webhookType} to ${d.endpoint.url} failed after ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}: ${d.reason.code}`);
    }
    default:
      return String(e["detail-type"]);
  }
}
