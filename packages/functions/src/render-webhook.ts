import { handleRenderWebhook } from "@reelbridge/core/usecases/render-webhook";
import type { RenderWebhookDeps } from "@reelbridge/core/usecases/render-webhook";
import { once } from "./lib/env";
import { httpEndpoint } from "./lib/handlers";
import { awsPlatform } from "./lib/aws-platform";
import type { Platform } from "./lib/platform";

/** What the render webhook runs with (the logger comes from the endpoint wrapper). */
export type Deps = Omit<RenderWebhookDeps, "logger">;

export const NAME = "render-webhook";

/** Dependencies from a platform (AWS, or the local runtime's peers). */
export async function buildDeps(p: Platform): Promise<Deps> {
  return {
    secret: await p.secret("REMOTION_WEBHOOK_SECRET"),
    state: p.stepState(),
    index: p.renderIndex(),
    publisher: p.publisher(NAME),
    blobs: p.blobs(),
    clock: p.clock,
  };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform());

/**
 * POST /remotion-webhook (Lambda Function URL, auth "signature"): Remotion's signed webhook →
 * RenderCompleted | RenderFailed. A bad signature gets 401 and emits nothing; transient trouble
 * (the bus, the table) gets 500, so Remotion retries it.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps)) {
  return httpEndpoint(NAME, async (req, logger) => {
    if (req.method !== "POST") return { status: 405, headers: { allow: "POST" }, body: { ok: false, error: "MethodNotAllowed" } };
    const res = await handleRenderWebhook({ ...(await deps()), logger }, { rawBody: req.rawBody, headers: req.headers });
    return { status: res.status, body: res.body };
  });
}

export const handler = createHandler();
