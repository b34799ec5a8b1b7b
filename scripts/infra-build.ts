// `pnpm infra:build [--stage NAME] [--out DIR]`: SST's real function build and synthesis,
// offline (no AWS credentials, nothing downloaded): every function bundled with its native
// binaries, the web client built, and the cloud assembly written to infra.out/<stage>/:
// <stack>.template.json and one asset.<hash>/ directory per function, the deployable code.
// `sst deploy --stage NAME` runs this same build before it uploads and deploys.
import { statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { buildInfra } from "../stacks/lib/build";
import { functionsOf } from "../stacks/lib/assembly";

const { values } = parseArgs({ options: { stage: { type: "string", default: "dev" }, out: { type: "string", default: "infra.out" } } });
const stage = values.stage!;
const started = Date.now();
const { assembly, outdir } = await buildInfra({ stage, outdir: join(values.out!, stage) });
for (const s of assembly.stacks) {
  const file = join(outdir, s.templateFile);
  const resources = Object.keys((s.template as { Resources?: object }).Resources ?? {}).length;
  console.log(`${relative(process.cwd(), file)}  (${resources} resources, ${(statSync(file).size / 1024).toFixed(0)} KiB)`);
}
for (const f of functionsOf(outdir)) {
  console.log(`  ${f.stack}/${f.logicalId}  ${f.runtime} ${f.architecture} ${f.handler}  ${f.assetDir ? relative(process.cwd(), f.assetDir) : "(inline)"}`);
}
console.log(`built stage ${stage} in ${((Date.now() - started) / 1000).toFixed(1)} s → ${relative(process.cwd(), outdir)}`);
