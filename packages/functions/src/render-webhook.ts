import { handleRenderWebhook } from "@reelbridge/core/usecases/render-webhook";
import type { RenderWebhookDeps } from "@reelbridge/core/usecases/render-webhook";
import { once } from "./lib/env";
import { httpEndpoint } from "./lib/handlers";
import { awsPlatform } from "./lib/aws-platform";
import type { Platform } from "./lib/platform";
import { functionArch } from "./lib/step-cost";
import type { JobStore } from "@reelbridge/core";
import { jobIdSchema } from "@reelbridge/events";

/** What the render webhook runs with (the logger comes from the endpoint wrapper). */
export type Deps = Omit<RenderWebhookDeps, "logger"> & {
  /** Where its invocations go on the job's cost (issue #13 item 1); absent: not metered. */
  jobs?: Pick<JobStore, "recordInvocations">;
};

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
    jobs: p.jobs(),
  };
}

/**
 * The job a request was about, once the use-case accepted it: only a webhook whose signature
 * checked out and that it acted on (not "ignored", nor refused) is metered onto a job's cost.
 */
function meteredJobIds(rawBody: string, res: { status: number; body: { ok: boolean; result?: string } }): string[] | undefined {
  if (res.status !== 200 || !res.body.ok || res.body.result === "ignored") return undefined;
  try {
    const jobId = (JSON.parse(rawBody) as { customData?: { jobId?: unknown } } | null)?.customData?.jobId;
    return typeof jobId === "string" && jobIdSchema.safeParse(jobId).success ? [jobId] : undefined;
  } catch {
    return undefined;
  }
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform());

/**
 * POST /remotion-webhook (Lambda Function URL, auth "signature"): Remotion's signed webhook →
 * RenderCompleted | RenderFailed. A bad signature gets 401 and emits nothing; transient trouble
 * (the bus, the table) gets 500, so Remotion retries it.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps)) {
  return httpEndpoint(
    NAME,
    async (req, logger) => {
      if (req.method !== "POST") return { status: 405, headers: { allow: "POST" }, body: { ok: false, error: "MethodNotAllowed" } };
      const res = await handleRenderWebhook({ ...(await deps()), logger }, { rawBody: req.rawBody, headers: req.headers });
      const jobIds = meteredJobIds(req.rawBody, res);
      return { status: res.status, body: res.body, ...(jobIds ? { jobIds } : {}) };
    },
    { meter: { jobs: async () => (await deps()).jobs, arch: functionArch(NAME) } },
  );
}

export const handler = createHandler();
