import type { DetailType, PipelineEvent } from "@reelbridge/events";
import type { Logger } from "../ports";
import { SinkRefusedError } from "../sinks/errors";
import type { GeneratedVideosSink, SinkOutcome } from "../sinks/generated-videos";

export interface SyncGeneratedVideoDeps {
  sink: GeneratedVideosSink;
  logger: Logger;
}

/**
 * The supabase-sink (issue #16): one pipeline event → the job's generated_videos row in the
 * team's Postgres (sinks/generated-videos.ts). It fails only by throwing (sinks/errors.ts), so the
 * queue keeps the event: never a *Failed event, never a job failure.
 */
export async function syncGeneratedVideo(deps: SyncGeneratedVideoDeps, event: PipelineEvent<DetailType>): Promise<SinkOutcome> {
  const { eventId, jobId } = event.detail.metadata;
  const fields = { jobId, eventId, detailType: event["detail-type"] };
  let out: SinkOutcome;
  try {
    out = await deps.sink.apply(event);
  } catch (err) {
    if (err instanceof SinkRefusedError) {
      deps.logger.error("the database refused the generated_videos write: the event goes to the DLQ (its alarm fires); fix the cause, then redrive", { ...fields, sqlState: err.sqlState, message: err.message });
    }
    throw err;
  }
  if (!out.applied) deps.logger.info("event already in the generated_videos sink; nothing written", fields);
  else if (out.row) deps.logger.info("generated_videos row upserted", { ...fields, status: out.row.status, videoUrl: out.row.video_url });
  else deps.logger.info("event kept for the generated_videos row; the job has no video yet", fields);
  return out;
}
