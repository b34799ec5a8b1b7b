import type { SettleDeps, SettleResult } from "../render/outcome";
import { settleRender } from "../render/outcome";
import type { RemotionWebhookPayload } from "../render/payload";
import { remotionWebhookPayloadSchema, renderCustomDataSchema } from "../render/payload";
import { parseRenderRecord, renderStateName } from "../render/record";
import { REMOTION_SIGNATURE_HEADER, verifyRemotionSignature } from "../render/signature";

/**
 * The render webhook (a Lambda Function URL): Remotion's signed success/error/timeout →
 * RenderCompleted or RenderFailed, once per render (render/outcome.ts).
 *
 *   401  missing or wrong X-Remotion-Signature: nothing is read, recorded or emitted
 *   400  signed but not a Remotion webhook payload (no retry can fix it)
 *   503  the render step has not recorded the renderId yet (Remotion retries: 1 s, 2 s)
 *   200  handled, a duplicate, or a render this stage does not track (retrying cannot help)
 *
 * Anything else (the bus, the state store, the output missing) is thrown as a transient error,
 * which the HTTP wrapper answers with 500, so Remotion retries it; the watchdog reconciles what
 * Remotion's two retries do not.
 */

/** What settling a render needs (render/outcome.ts), plus the webhook's signing secret. */
export type RenderWebhookDeps = SettleDeps & { secret: string };

export interface RenderWebhookRequest {
  /** The body exactly as received: the signature is over these bytes. */
  rawBody: string;
  /** Header names in any case. */
  headers: Record<string, string | undefined>;
}

export interface RenderWebhookResponse {
  status: 200 | 400 | 401 | 413 | 503;
  body: { ok: boolean; result?: string; error?: string; eventId?: string };
}

/** Remotion's payloads are a few KB; anything far larger is not one. */
const MAX_BODY_BYTES = 256 * 1024;

const header = (headers: Record<string, string | undefined>, name: string) => {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
};

export async function handleRenderWebhook(deps: RenderWebhookDeps, req: RenderWebhookRequest): Promise<RenderWebhookResponse> {
  const log = deps.logger;
  if (Buffer.byteLength(req.rawBody, "utf8") > MAX_BODY_BYTES) return { status: 413, body: { ok: false, error: "PayloadTooLarge" } };
  if (!verifyRemotionSignature(deps.secret, req.rawBody, header(req.headers, REMOTION_SIGNATURE_HEADER))) {
    log?.warn("render webhook rejected: missing or invalid signature", { hasSignature: header(req.headers, REMOTION_SIGNATURE_HEADER) !== undefined });
    return { status: 401, body: { ok: false, error: "InvalidSignature" } };
  }

  let payload: RemotionWebhookPayload;
  try {
    payload = remotionWebhookPayloadSchema.parse(JSON.parse(req.rawBody));
  } catch {
    log?.error("render webhook rejected: signed body is not a Remotion webhook payload");
    return { status: 400, body: { ok: false, error: "InvalidPayload" } };
  }
  const custom = renderCustomDataSchema.safeParse(payload.customData ?? undefined);
  if (!custom.success) {
    log?.warn("render webhook without customData.jobId; ignored", { renderId: payload.renderId, type: payload.type });
    return { status: 200, body: { ok: true, result: "ignored" } };
  }
  const jobId = custom.data.jobId;
  const version = custom.data.version ?? 1;
  const fields = { jobId, renderId: payload.renderId, type: payload.type, ...(version > 1 ? { version } : {}) };

  const record = parseRenderRecord(await deps.state.get(jobId, renderStateName(version)));
  if (!record) {
    log?.warn("render webhook for a job this stage has no render for; ignored", fields);
    return { status: 200, body: { ok: true, result: "ignored" } };
  }
  if (!record.renderId) {
    // Remotion can only call back after renderMediaOnLambda returned; the step records the
    // renderId right after, so this is a race of milliseconds: ask Remotion to retry.
    log?.warn("render webhook before the renderId was recorded; asking for a retry", fields);
    return { status: 503, body: { ok: false, error: "RenderNotRecordedYet" } };
  }
  if (record.renderId !== payload.renderId) {
    log?.warn("render webhook for a render that is not the job's current one (an orphan of a crashed start); ignored", { ...fields, current: record.renderId });
    return { status: 200, body: { ok: true, result: "ignored" } };
  }

  if (record.status === "cancelled") {
    // The job (or this version) was cancelled and the render told to stop: its last word changes nothing.
    log?.info("render webhook for a cancelled render; ignored", fields);
    return { status: 200, body: { ok: true, result: "cancelled" } };
  }

  const started = { ...record, renderId: record.renderId };
  let result: SettleResult;
  switch (payload.type) {
    case "success": {
      const costs = payload.costs;
      const estimated = costs?.estimatedCost ?? costs?.accruedSoFar;
      result = await settleRender(
        deps,
        started,
        {
          kind: "success",
          timeToFinishMs: payload.timeToFinish ?? null,
          costs: costs && estimated !== undefined ? { estimated, currency: costs.currency, ...(costs.disclaimer ? { disclaimer: costs.disclaimer } : {}) } : null,
        },
        "webhook",
      );
      break;
    }
    case "error": {
      const first = payload.errors[0];
      const message = first ? `${first.name ? `${first.name}: ` : ""}${first.message ?? "unknown error"}` : "Remotion Lambda reported an error without details.";
      result = await settleRender(deps, started, { kind: "error", message: `Remotion Lambda failed to render: ${message}` }, "webhook");
      break;
    }
    case "timeout":
      result = await settleRender(deps, started, { kind: "timeout" }, "webhook");
      break;
  }
  log?.info(result.emitted ? "render settled from webhook" : "duplicate render webhook", { ...fields, event: result.type, eventId: result.eventId, duplicate: result.duplicate });
  return { status: 200, body: { ok: true, result: result.emitted ? result.type : "duplicate", eventId: result.eventId } };
}
