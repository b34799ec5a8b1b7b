import { Template } from "aws-cdk-lib/assertions";
import { initProject } from "sst/project.js";
import { App, getStack } from "sst/constructs";
import config from "../../sst.config";

/**
 * Synthesizes the whole SST app offline for a stage, the way `sst deploy` builds it, without
 * AWS credentials: initProject + App in deploy mode + the stacks from sst.config.ts.
 */
export async function synth(stage: string): Promise<{ app: App; template: (stack: Parameters<typeof getStack>[0]) => Template }> {
  await initProject({ stage });
  const app = new App({ mode: "deploy", stage, name: "reelbridge", region: "us-east-1", account: "111122223333" });
  app.setDefaultRemovalPolicy(stage === "prod" ? "retain" : "destroy");
  config.stacks(app);
  return { app, template: (s) => Template.fromStack(getStack(s)) };
}
