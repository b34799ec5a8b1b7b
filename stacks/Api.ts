import type { StackContext } from "sst/constructs";
import { use } from "sst/constructs";
import { endpoints } from "../packages/functions/src/topology";
import { Bus } from "./Bus";
import { pascal, topologyFunction } from "./lib/functions";
import { useStageConfig } from "./lib/stage";
import { Storage } from "./Storage";

/**
 * The HTTP endpoints of the topology as Lambda Function URLs: the upload API and status API
 * (CORS from the stage's web origins and JWT checked in the handler when the stage configures an
 * issuer) and Remotion's webhook receiver (signature checked in the handler).
 */
export function Api({ stack, app }: StackContext) {
  const { bucket, table, secrets } = use(Storage);
  const { bus } = use(Bus);
  const config = useStageConfig(app);

  if (!config.auth && app.stage === "prod") {
    // Open uploads spend LTX credits and Remotion money, and GET /jobs would list every job.
    throw new Error(`stage "prod" must configure JWT auth (auth: { issuer, audience, jwksUrl }) in packages/functions/src/stage-config.ts`);
  }
  if (!config.auth) {
    // Said at deploy time, as the issue asks: anyone with the URL can upload on this stage.
    console.warn(`[reelbridge] stage "${app.stage}" has no JWT issuer configured: the upload and status APIs are OPEN.`);
  }

  const fns = Object.fromEntries(
    endpoints.map((e) => {
      // No URL-level CORS: the handlers answer preflights and set Access-Control-Allow-Origin
      // themselves (lib/cors.ts, from the stage's web origins), the same way in AWS and in the
      // local runtime. With Function URL CORS on too, Lambda would add its own CORS headers
      // (duplicate Access-Control-Allow-Origin: browsers reject the response) and answer
      // OPTIONS before the handler could.
      const fn = topologyFunction(stack, pascal(e.name), e, { bucket, table, bus, secrets }, {
        url: { authorizer: "none", cors: false },
      });
      return [e.name, fn];
    }),
  );

  stack.addOutputs({
    UploadApiUrl: fns["upload-api"]!.url!,
    StatusApiUrl: fns["status-api"]!.url!,
    RenderWebhookUrl: fns["render-webhook"]!.url!,
    // POST /jobs/{jobId}/renders and /cancel (docs/decisions/0009).
    JobsApiUrl: fns["jobs-api"]!.url!,
  });
  return { endpoints: fns, uploadApi: fns["upload-api"]!, statusApi: fns["status-api"]!, jobsApi: fns["jobs-api"]!, renderWebhook: fns["render-webhook"]! };
}

