import type { PipelineEvent } from "@reelbridge/events";
import type { Logger, Renderer, StepStateStore } from "../ports";
import type { RenderIndex } from "../render/ports";
import { parseRenderRecord, renderStateName, versionOf } from "../render/record";
import { cancelRender } from "./start-render";

/**
 * The render canceller (JobCancelled, docs/decisions/0009): stops the render of the cancelled job
 * (or re-render version) if one is running: Remotion Lambda's cancelRenderOnLambda, or the local
 * emulator aborting its renderer. Its record becomes `cancelled` and leaves the watchdog's index,
 * so a late webhook or progress answer changes nothing. A render still being started is cancelled
 * by the render step itself once it has the renderId (start-render.ts, cancelIfCancelled).
 * Idempotent: a duplicate JobCancelled finds the record cancelled and does nothing.
 */
export interface CancelRunningRenderDeps {
  state: StepStateStore;
  renderer: Renderer;
  index?: RenderIndex;
}

export async function cancelRunningRender(
  deps: CancelRunningRenderDeps,
  event: PipelineEvent<"JobCancelled">,
  ctx: { logger: Logger },
): Promise<{ cancelled: boolean; renderId?: string }> {
  const { jobId } = event.detail.metadata;
  const version = versionOf(event.detail.data);
  const record = parseRenderRecord(await deps.state.get(jobId, renderStateName(version)));
  if (!record || record.status !== "started" || !record.renderId) {
    ctx.logger.info("no running render to cancel", { status: record?.status ?? "none", ...(version > 1 ? { version } : {}) });
    return { cancelled: false };
  }
  await cancelRender(deps, { ...record, renderId: record.renderId }, ctx.logger);
  return { cancelled: true, renderId: record.renderId };
}
