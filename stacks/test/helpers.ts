import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import type { App } from "sst/constructs";
import { getStack } from "sst/constructs";
import { buildInfra } from "../lib/build";

/**
 * Builds the whole SST app for a stage the way `sst deploy` does, offline, without AWS
 * credentials (stacks/lib/build.ts: SST's function builds, then synthesis), into
 * infra.out/<stage>/. The templates are the deployed ones, code assets included.
 */
export async function synth(stage: string): Promise<{ app: App; outdir: string; template: (stack: Parameters<typeof getStack>[0]) => Template }> {
  const { app, outdir } = await buildInfra({ stage, outdir: join("infra.out", stage) });
  return { app, outdir, template: (s) => Template.fromStack(getStack(s)) };
}
