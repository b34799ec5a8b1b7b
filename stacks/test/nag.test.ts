import { join } from "node:path";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { buildInfra } from "../lib/build";
import { ACCEPTED_FINDINGS, isAccepted, nagFindings } from "../lib/nag";
import type { NagFinding } from "../lib/nag";

// The AWS Solutions rule pack (cdk-nag) over SST's real build of the staging stage.
let findings: NagFinding[];
beforeAll(async () => {
  const { assembly } = await buildInfra({ stage: "staging", outdir: join("infra.out", "staging-nag"), aspects: [new AwsSolutionsChecks()] });
  findings = nagFindings(assembly);
}, 600_000);

describe("security rules over the real templates (cdk-nag AwsSolutions)", () => {
  it("ran: it reports findings, so a silent pass means something", () => {
    expect(findings.length).toBeGreaterThan(0);
  });

  it("leaves no finding that is neither fixed nor accepted with a reason", () => {
    const open = findings.filter((f) => !isAccepted(f)).map((f) => `${f.level} ${f.path}: ${f.message.split("\n")[0]}`);
    expect(open).toEqual([]);
    for (const a of ACCEPTED_FINDINGS) expect(a.reason.length, String(a.rule)).toBeGreaterThan(20);
  });

  it("finds none of what was fixed: TLS-only buckets, CloudFront origin access control, queues encrypted and TLS-only", () => {
    const rules = new Set(findings.map((f) => f.rule));
    // S10: bucket without a TLS-only policy; CFR7: S3 origin without origin access control;
    // SQS2/SQS4: queue without encryption / TLS-only policy; IAM5 on the Remotion invoke (now one function ARN).
    for (const fixed of ["AwsSolutions-S10", "AwsSolutions-CFR7", "AwsSolutions-SQS2", "AwsSolutions-SQS4"]) expect(rules.has(fixed), fixed).toBe(false);
    expect(findings.filter((f) => /RenderStep|RenderWatchdog/.test(f.path) && f.rule === "AwsSolutions-IAM5")).toEqual([]);
  });
});
