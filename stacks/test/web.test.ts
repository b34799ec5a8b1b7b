import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Match } from "aws-cdk-lib/assertions";
import type { Template } from "aws-cdk-lib/assertions";
import type { Stack } from "aws-cdk-lib";
import { getStack } from "sst/constructs";
import type { StaticSite } from "sst/constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { stageConfig } from "../../packages/functions/src/stage-config";
import { Api } from "../Api";
import { Web } from "../Web";
import { synth } from "./helpers";

// Offline, once for the file: SST's real build, the site's build (with the preview's React and
// Remotion chunk) and asset zip included: up to a few minutes on a loaded 2-core machine.
let web: Template;
let outdir: string;
const started = Date.now();
let site: StaticSite;
let resolve: (v: unknown) => unknown;
beforeAll(async () => {
  const built = await synth("staging");
  const { template } = built;
  outdir = built.outdir;
  web = template(Web);
  const webStack = getStack(Web) as unknown as Stack;
  site = webStack.node.findChild("Site") as StaticSite;
  resolve = (v) => webStack.resolve(v);
}, 300_000);

type ReplaceValue = { files: string; search: string; replace: string };

describe("web site", () => {
  it("serves the page from a private bucket through CloudFront over HTTPS only", () => {
    web.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    web.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: "index.html",
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: "redirect-to-https",
          // The managed SecurityHeadersPolicy (HSTS, nosniff, frame DENY, referrer policy).
          ResponseHeadersPolicyId: "67f7725c-6f97-4210-82d7-5512b31e9d03",
        }),
      }),
    });
  });

  it("keeps the site bucket TLS-only and reads it through an origin access control, not a legacy OAI", () => {
    web.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } })]),
      },
    });
    web.resourceCountIs("AWS::CloudFront::CloudFrontOriginAccessIdentity", 0);
    web.hasResourceProperties("AWS::CloudFront::OriginAccessControl", { OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: "s3", SigningBehavior: "always" }) });
    const [dist] = Object.values(web.findResources("AWS::CloudFront::Distribution")) as Array<{ Properties: { DistributionConfig: { Origins: Array<{ OriginAccessControlId?: unknown; S3OriginConfig?: { OriginAccessIdentity?: string } }> } } }>;
    for (const o of dist!.Properties.DistributionConfig.Origins) {
      expect(o.OriginAccessControlId).toBeDefined();
      expect(o.S3OriginConfig?.OriginAccessIdentity ?? "").toBe("");
    }
    // CloudFront may read the bucket, for this distribution only (aws:SourceArn).
    web.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: "cloudfront.amazonaws.com" }, Condition: { StringEquals: { "AWS:SourceArn": Match.anyValue() } } })]) },
    });
  });

  it("answers unknown paths with the page (one-page app; /config.json falls back to build values)", () => {
    web.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        CustomErrorResponses: Match.arrayWith([Match.objectLike({ ErrorCode: 403, ResponseCode: 200, ResponsePagePath: "/index.html" })]),
      }),
    });
  });

  it("points the page at the stage's upload and status Function URLs", () => {
    const { uploadApi, statusApi } = apiFns();
    const env = (site.getConstructMetadata().data as { environment: Record<string, string> }).environment;
    expect(env.VITE_UPLOAD_API).toBe(uploadApi.url);
    expect(env.VITE_STATUS_API).toBe(statusApi.url);
    // The deployed JS gets the real URLs in place of the build's "{{ NAME }}" placeholders.
    const replace = (site as unknown as { getS3ContentReplaceValues(): ReplaceValue[] }).getS3ContentReplaceValues();
    expect(replace).toEqual(
      expect.arrayContaining([
        { files: "**/*.js", search: "{{ VITE_UPLOAD_API }}", replace: uploadApi.url },
        { files: "**/*.js", search: "{{ VITE_STATUS_API }}", replace: statusApi.url },
      ]),
    );
    expect(resolve(env.VITE_UPLOAD_API)).not.toEqual(resolve(env.VITE_STATUS_API));
  });

  it("tells the page where the stage's people sign in (staging has JWT auth and a web client)", () => {
    const env = (site.getConstructMetadata().data as { environment: Record<string, string> }).environment;
    const { auth } = stageConfig("staging");
    expect(auth?.webClientId).toBeTruthy();
    expect({ issuer: env.VITE_AUTH_ISSUER, clientId: env.VITE_AUTH_CLIENT_ID, audience: env.VITE_AUTH_AUDIENCE }).toEqual({ issuer: auth!.issuer, clientId: auth!.webClientId, audience: auth!.audience });
  });

  it("outputs the site's URL", () => {
    web.hasOutput("SiteUrl", {});
  });

  it("deploys the client it built: the uploader's zip holds the page and its bundles", () => {
    web.resourceCountIs("Custom::S3Uploader", 1);
    const zips = readdirSync(outdir).filter((f) => /^asset\.[0-9a-f]{64}\.zip$/.test(f));
    const listings = zips.map((z) => execFileSync("unzip", ["-Z1", join(outdir, z)], { encoding: "utf8" }).split("\n"));
    const page = listings.find((l) => l.includes("index.html"));
    expect(page, "a site zip with index.html").toBeDefined();
    expect(page!.some((f) => /^assets\/index-[\w-]+\.js$/.test(f))).toBe(true);
    // Built by this synthesis, not left over from an earlier one.
    expect(statSync("packages/web/dist/index.html").mtimeMs).toBeGreaterThan(started);
  });
});

/** The upload and status API functions, as stacks/Api.ts created them. */
function apiFns() {
  const apiStack = getStack(Api) as unknown as Stack;
  const fn = (name: string) => apiStack.node.findChild(name) as unknown as { url: string };
  return { uploadApi: fn("UploadApi"), statusApi: fn("StatusApi") };
}
