// `pnpm infra:synth [--stage NAME]`: writes the synthesized CloudFormation templates as JSON into
// infra.out/<stage>/, offline, without AWS credentials (the same synthesis the stack tests use).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Stack } from "aws-cdk-lib";
import { initProject } from "sst/project.js";
import { App } from "sst/constructs";
import config from "../sst.config";

const { values } = parseArgs({ options: { stage: { type: "string", default: "dev" }, out: { type: "string", default: "infra.out" } } });
const stage = values.stage!;

await initProject({ stage });
const app = new App({ mode: "deploy", stage, name: "reelbridge", region: "us-east-1", account: "111122223333" });
config.stacks(app);
const assembly = app.synth();

const dir = join(values.out!, stage);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
for (const child of app.node.children) {
  if (!(child instanceof Stack)) continue;
  const artifact = assembly.getStackByName(child.stackName);
  const file = join(dir, `${child.stackName}.template.json`);
  writeFileSync(file, JSON.stringify(artifact.template, null, 2) + "\n");
  const resources = Object.keys((artifact.template as { Resources?: object }).Resources ?? {}).length;
  console.log(`${file}  (${resources} resources)`);
}
