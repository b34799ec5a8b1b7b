import { ResponseHeadersPolicy } from "aws-cdk-lib/aws-cloudfront";
import { S3BucketOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import type { StackContext } from "sst/constructs";
import { StaticSite, use } from "sst/constructs";
import { Api } from "./Api";
import { privateBucket } from "./lib/bucket";
import { useStageConfig } from "./lib/stage";

/**
 * The browser client (packages/web) as a static site: S3 (private) behind CloudFront.
 *
 * The page talks to the two Function URLs directly, cross-origin: VITE_UPLOAD_API and
 * VITE_STATUS_API. Chosen over routing /uploads and /jobs through this distribution because
 * the Function URLs already answer CORS for the stage's webOrigins (stacks/Api.ts), and a
 * CloudFront → Function URL origin needs a Host-less origin request policy, caching disabled and
 * care with the Authorization header for JWT stages: more moving parts for one saved preflight.
 *
 * The URLs are deploy-time tokens: SST builds the site with "{{ VITE_UPLOAD_API }}"-style
 * placeholders and its S3 deployment custom resource replaces them in the uploaded .js/.html
 * with the real values. The page also asks /config.json first (the local dev server answers
 * it; here CloudFront answers index.html, which the page ignores).
 *
 * Offline synth (stacks/test): the build and the asset zip are SST "deferred tasks", run by
 * App.finish() during `sst deploy`/`sst build`; the test helper never calls it, so tests never
 * build the site, and the S3Uploader custom resource is absent from test templates.
 *
 * The stage's webOrigins (packages/functions/src/stage-config.ts) must contain the origin this
 * site is served from, or the APIs and the media bucket refuse the browser (CORS).
 */
export function Web({ stack, app }: StackContext) {
  const { uploadApi, statusApi, jobsApi } = use(Api);
  // Stages with JWT auth and a web client registered at the issuer: the page signs people in
  // there (OIDC code + PKCE, packages/web/src/auth.ts) and sends their access tokens.
  const { auth } = useStageConfig(app);
  const signIn: Record<string, string> = auth?.webClientId ? { VITE_AUTH_ISSUER: auth.issuer, VITE_AUTH_CLIENT_ID: auth.webClientId, VITE_AUTH_AUDIENCE: auth.audience } : {};
  // Our own bucket, so it is TLS-only like the media bucket, and so CloudFront reads it with an
  // origin access control (SigV4, SSE-KMS-capable) instead of SST's legacy origin access
  // identity: S3BucketOrigin.withOriginAccessControl adds the bucket policy for this distribution.
  const bucket = privateBucket(stack, "SiteBucket", app.stage);

  const site = new StaticSite(stack, "Site", {
    path: "packages/web",
    buildCommand: "pnpm run build",
    buildOutput: "dist",
    // One page: unknown paths (and a missing /config.json) answer index.html.
    errorPage: "redirect_to_index_page",
    environment: {
      VITE_UPLOAD_API: uploadApi.url!,
      VITE_STATUS_API: statusApi.url!,
      // Re-render and cancel (the web studio, issue #14 item 4).
      VITE_JOBS_API: jobsApi.url!,
      ...signIn,
    },
    cdk: {
      bucket,
      distribution: {
        comment: `reelbridge web (${stack.stage})`,
        defaultBehavior: {
          origin: S3BucketOrigin.withOriginAccessControl(bucket),
          // HSTS, nosniff, frame-options DENY, referrer-policy, XSS protection.
          responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
        },
      },
    },
  });

  stack.addOutputs({ SiteUrl: site.url ?? "" });
  return { site };
}
