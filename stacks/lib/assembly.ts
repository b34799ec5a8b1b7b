import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Reading a built cloud assembly (stacks/lib/build.ts): its stacks' templates and, for every
 * Lambda function, the asset directory CDK will zip and upload as its code.
 */
export interface BuiltFunction {
  stack: string;
  logicalId: string;
  /** The construct path (aws:cdk:path), e.g. dev-reelbridge-Pipeline/LtxStep/Resource. */
  path: string;
  handler: string;
  runtime: string;
  architecture: "x86_64" | "arm64";
  memoryMB: number;
  timeoutSeconds: number;
  /** Resolved only where literal; CloudFormation references stay as objects. */
  environment: Record<string, unknown>;
  /** Absolute path of the code asset directory; undefined for inline code. */
  assetDir?: string;
  inlineCode?: string;
}

interface Manifest {
  artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
}
interface Template {
  Resources?: Record<string, { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
}
interface AssetsFile {
  files?: Record<string, { source: { path: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }>;
}

export function stackTemplates(outdir: string): Array<{ stack: string; template: Template }> {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as Manifest;
  return Object.entries(manifest.artifacts)
    .filter(([, a]) => a.type === "aws:cloudformation:stack")
    .map(([stack, a]) => ({ stack, template: JSON.parse(readFileSync(join(outdir, a.properties!.templateFile!), "utf8")) as Template }));
}

export function functionsOf(outdir: string): BuiltFunction[] {
  const out: BuiltFunction[] = [];
  for (const { stack, template } of stackTemplates(outdir)) {
    const assetsFile = join(outdir, `${stack}.assets.json`);
    const assets = existsSync(assetsFile) ? (JSON.parse(readFileSync(assetsFile, "utf8")) as AssetsFile) : {};
    const byKey = new Map<string, string>();
    for (const f of Object.values(assets.files ?? {})) for (const d of Object.values(f.destinations)) byKey.set(d.objectKey, f.source.path);
    for (const [logicalId, r] of Object.entries(template.Resources ?? {})) {
      if (r.Type !== "AWS::Lambda::Function") continue;
      const p = r.Properties;
      const code = p.Code as { S3Key?: unknown; ZipFile?: string };
      const key = typeof code.S3Key === "string" ? code.S3Key : undefined;
      const source = key ? byKey.get(key) : undefined;
      out.push({
        stack,
        logicalId,
        path: String(r.Metadata?.["aws:cdk:path"] ?? logicalId),
        handler: String(p.Handler),
        runtime: String(p.Runtime),
        architecture: ((p.Architectures as string[] | undefined)?.[0] ?? "x86_64") as BuiltFunction["architecture"],
        memoryMB: Number(p.MemorySize ?? 128),
        timeoutSeconds: Number(p.Timeout ?? 3),
        environment: (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
        ...(source ? { assetDir: join(outdir, source) } : {}),
        ...(code.ZipFile !== undefined ? { inlineCode: code.ZipFile } : {}),
      });
    }
  }
  return out;
}
