import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFfmpegVideoGenerator } from "@reelbridge/core/adapters/ffmpeg/offline-generator";
import { createLtxVideoGenerator } from "@reelbridge/core/adapters/ltx/generator";
import type { AwsContext } from "../aws-platform";
import type { Platform } from "../platform";
import { optionalEnv, sstSecret } from "../env";

/**
 * The stage's image-to-video generator in AWS (stage config ltx.provider): Lightricks' API, or the
 * FFmpeg generator. LTX_BASE_URL, when set, replaces stage config's ltx.baseUrl, as the SDK's
 * AWS_ENDPOINT_URL_* do for AWS: the smoke test points a built bundle at the fake LTX server.
 */
export const awsVideoGenerator = ({ config }: AwsContext): Platform["videoGenerator"] => async ({ logger }) =>
  config.ltx.provider === "offline"
    ? createFfmpegVideoGenerator({ workDir: join(tmpdir(), "reelbridge-offline-generator") })
    : createLtxVideoGenerator({ apiKey: await sstSecret("LTX_API_KEY"), baseUrl: optionalEnv("LTX_BASE_URL") ?? config.ltx.baseUrl, model: config.ltx.model, logger });
