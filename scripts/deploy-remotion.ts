/**
 * Deploys Remotion Lambda's function and site for one stage, and prints the values to put in
 * the stage's config (packages/functions/src/stage-config.ts → remotion.{region, functionName,
 * serveUrl}). Run it with AWS credentials for the stage's account (never in CI tests):
 *
 *   pnpm exec tsx scripts/deploy-remotion.ts --stage prod [--region eu-west-1] [--memory 2048] [--disk 2048] [--timeout 240]
 *
 * It is idempotent: deployFunction reuses a function with the same version/memory/disk/timeout
 * (its name encodes them), and deploySite overwrites the site of the same name, uploading only
 * changed files. Re-run it after every Remotion upgrade or change under remotion/.
 *
 * The root package does not depend on @remotion/lambda (a large package: bundler, CLI); the
 * script loads packages/core's copy, so it is always the version the render step's client uses
 * (client and function must match exactly).
 *
 * ─── IAM (REFERENCE §2.4). The statements below are an inference from Remotion's documented
 *     policies (`npx remotion lambda policies user|role`), trimmed to what reelbridge uses. ───
 *
 * 1. Whoever runs this script: Remotion's user policy, unchanged (`npx remotion lambda policies user`).
 *    It creates the remotionlambda-* bucket, the remotion-render-* function and its log group.
 *
 * 2. The render step and the render watchdog (topology permission `remotion:render`): they only
 *    call renderMediaOnLambda and getRenderProgress, which are both Lambda invocations of the
 *    Remotion function (our input props are far below the size Remotion would upload to S3, and
 *    we do not use skipLambdaInvocation):
 *
 *      { Effect: "Allow", Action: ["lambda:InvokeFunction"],
 *        Resource: ["arn:aws:lambda:<region>:<account>:function:remotion-render-*"] }
 *
 *    (Add `s3:GetObject` + `s3:ListBucket` on `arn:aws:s3:::remotionlambda-*` only if
 *    getRenderProgress is switched to skipLambdaInvocation: true.)
 *
 * 3. The Remotion function's own role, `remotion-lambda-role` (Remotion's role policy,
 *    `npx remotion lambda policies role`), PLUS access to the media bucket, because the render
 *    writes straight to jobs/<jobId>/final.mp4 there (outName with bucketName, privacy "no-acl",
 *    so no s3:PutObjectAcl):
 *
 *      { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"],
 *        Resource: ["arn:aws:s3:::<media-bucket>/jobs/*"] },
 *      { Effect: "Allow", Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::<media-bucket>"],
 *        Condition: { StringLike: { "s3:prefix": ["jobs/*"] } } }
 *
 *    GetObject/ListBucket let Remotion's progress check HEAD the output (a 404 rather than a 403
 *    when it is not there yet). If the bucket uses SSE-KMS, add kms:GenerateDataKey/kms:Decrypt
 *    on its key. The base clip, music and logo are read through presigned GET URLs made by the
 *    render step, so the render step's role needs s3:GetObject on jobs/* and assets/* (the
 *    signer's permissions are the URL's permissions).
 */
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type * as RemotionLambda from "../packages/core/node_modules/@remotion/lambda/dist/index";
import { stageConfig } from "@reelbridge/functions/stage-config";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function loadRemotionLambda(): Promise<typeof RemotionLambda> {
  const require = createRequire(path.join(root, "packages/core/package.json"));
  const mod = (await import(pathToFileURL(require.resolve("@remotion/lambda")).href)) as typeof RemotionLambda & { default?: typeof RemotionLambda };
  return typeof (mod as Partial<typeof RemotionLambda>).deployFunction === "function" ? mod : (mod.default as typeof RemotionLambda);
}

async function main() {
  const { values } = parseArgs({
    options: {
      stage: { type: "string", default: "dev" },
      region: { type: "string" },
      memory: { type: "string", default: "2048" },
      disk: { type: "string", default: "2048" },
      timeout: { type: "string", default: "240" },
      "site-name": { type: "string" },
    },
  });
  const stage = values.stage ?? "dev";
  const cfg = stageConfig(stage);
  const region = (values.region ?? cfg.remotion.region) as RemotionLambda.AwsRegion;
  const siteName = values["site-name"] ?? `reelbridge-${stage}`;
  const { deployFunction, deploySite, getOrCreateBucket } = await loadRemotionLambda();

  const log = (m: string) => process.stderr.write(`[deploy-remotion] ${m}\n`);
  log(`stage ${stage}, region ${region}`);

  const { functionName, alreadyExisted } = await deployFunction({
    region,
    memorySizeInMb: Number(values.memory),
    diskSizeInMb: Number(values.disk),
    // The webhook's "timeout" fires 1 s before this; the watchdog's hard limit must exceed it.
    timeoutInSeconds: Number(values.timeout),
    createCloudWatchLogGroup: true,
    cloudWatchLogRetentionPeriodInDays: 14,
  });
  log(`function ${functionName}${alreadyExisted ? " (already deployed)" : ""}`);

  const { bucketName } = await getOrCreateBucket({ region });
  let lastPct = -1;
  const { serveUrl } = await deploySite({
    region,
    bucketName,
    entryPoint: path.join(root, "remotion/src/index.ts"),
    siteName,
    options: {
      publicDir: path.join(root, "remotion/public"),
      rootDir: path.join(root, "remotion"),
      onUploadProgress: ({ totalFiles, filesUploaded }: { totalFiles: number; filesUploaded: number }) => {
        const pct = totalFiles ? Math.floor((filesUploaded / totalFiles) * 10) * 10 : 100;
        if (pct !== lastPct) log(`site upload ${pct}%`);
        lastPct = pct;
      },
    },
  });
  log(`site ${serveUrl}`);

  process.stdout.write(
    `${JSON.stringify({ stage, remotion: { region, functionName, serveUrl }, remotionBucket: bucketName }, null, 2)}\n` +
      `\nPut this in packages/functions/src/stage-config.ts for stage "${stage}":\n` +
      `  remotion: { ...base.remotion, region: "${region}", functionName: "${functionName}", serveUrl: "${serveUrl}" },\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`[deploy-remotion] failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
