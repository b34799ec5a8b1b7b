import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { Aspects } from "aws-cdk-lib";
import type { IAspect } from "aws-cdk-lib";
import type { CloudAssembly } from "aws-cdk-lib/cx-api";
import { initProject } from "sst/project.js";
import { App } from "sst/constructs";
import config from "../../sst.config";

/** The account the offline build synthesizes for (no credentials are asked for). */
export const OFFLINE_ACCOUNT = "111122223333";

export interface InfraBuild {
  app: App;
  assembly: CloudAssembly;
  /** The cloud assembly directory: <stack>.template.json, asset.<hash>/ per function, manifest.json. */
  outdir: string;
}

/**
 * SST's own deploy build, offline: the app in deploy mode, every function bundled by SST (its
 * deferred build tasks: esbuild, copyFiles, hooks), the static site built, then synthesized into
 * a cloud assembly with the real code assets, the same steps `sst deploy` takes before it
 * uploads (sst/stacks/synth.js: new App → stacks → app.finish() → app.synth()).
 *
 * The one AWS call of that path is skipped: app.finish() asks the account's SSTBootstrap stack
 * for its bucket, which only the upload of separate sourcemaps uses. Our functions bundle their
 * sourcemaps (FUNCTION_DEFAULTS.nodejs.sourcemap), so SST registers none, and the build checks
 * that (a function that produced a separate sourcemap would need that bucket: the build fails).
 */
// Why and what it costs: docs/decisions/0008-offline-deploy-build.md.
export async function buildInfra(opts: { stage: string; outdir: string; aspects?: IAspect[] }): Promise<InfraBuild> {
  const outdir = resolve(opts.outdir);
  rmSync(outdir, { recursive: true, force: true });
  await initProject({ stage: opts.stage });
  const app = new App(
    { mode: "deploy", stage: opts.stage, name: "reelbridge", region: "us-east-1", account: OFFLINE_ACCOUNT },
    { outdir },
  );
  config.stacks(app);
  for (const a of opts.aspects ?? []) Aspects.of(app).add(a);
  const withoutBootstrap = app as unknown as { isRunningSSTTest(): boolean };
  const original = withoutBootstrap.isRunningSSTTest.bind(app);
  withoutBootstrap.isRunningSSTTest = () => true;
  try {
    await app.finish();
  } finally {
    withoutBootstrap.isRunningSSTTest = original;
  }
  const { useFunctions } = await import("sst/constructs/Function.js");
  for (const child of app.node.children) {
    const stackName = (child as { stackName?: string }).stackName;
    if (stackName && useFunctions().sourcemaps.forStack(stackName).length) {
      throw new Error(`stack ${stackName} has functions with separate sourcemaps: deploying them needs SST's bootstrap bucket (keep nodejs.sourcemap: true)`);
    }
  }
  const assembly = app.synth();
  return { app, assembly, outdir };
}
