import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as events from "aws-cdk-lib/aws-events";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { Function as SstFunction } from "sst/constructs";
import type { Config, FunctionProps, Stack } from "sst/constructs";
import type { Permission, SecretName, Shipping } from "../../packages/functions/src/topology";
import { nativeProps } from "./native";
import { statementsFor } from "./permissions";

/**
 * Every function's defaults (sst.config.ts sets them app-wide). Sourcemaps are bundled into the
 * zip (`sourcemap: true`): SST then uploads none separately, which is what lets `infra:build`
 * run SST's build without the account's bootstrap bucket (scripts/infra-build.ts).
 */
export const FUNCTION_DEFAULTS = {
  runtime: "nodejs24.x",
  architecture: "arm_64",
  tracing: "active",
  logRetention: "one_month",
  environment: { NODE_OPTIONS: "--enable-source-maps", LOG_LEVEL: "INFO" },
  // pg's optional native binding (the supabase-sink bundles pg): external, or SST `npm install`s
  // pg-native and compiles libpq at build time. pg only loads it when asked for pg.native.
  nodejs: { format: "esm", sourcemap: true, esbuild: { external: ["pg-native"] } },
} as const satisfies FunctionProps;

export interface FunctionResources {
  bucket: s3.IBucket;
  table: dynamodb.ITable;
  bus: events.IEventBus;
  secrets: Record<SecretName, Config.Secret>;
}

/**
 * One function of the topology: its own role (SST creates one per function) with exactly the
 * statements its permissions ask for, the secrets it names bound, and the shared environment.
 */
export function topologyFunction(
  stack: Stack,
  id: string,
  spec: Shipping & { name: string; handler: string; timeoutSeconds: number; memoryMB: number; permissions: Permission[]; description: string },
  r: FunctionResources,
  extra: Partial<FunctionProps> = {},
): SstFunction {
  const secrets = spec.permissions.flatMap((p) => (p.kind === "secret" ? [r.secrets[p.name]] : []));
  const { environment, ...rest } = extra;
  const { environment: nativeEnvironment, ...native } = nativeProps(spec.native, FUNCTION_DEFAULTS.nodejs);
  return new SstFunction(stack, id, {
    handler: spec.handler,
    description: spec.description.slice(0, 256),
    timeout: spec.timeoutSeconds,
    memorySize: spec.memoryMB,
    ...(spec.diskMB ? { diskSize: `${spec.diskMB} MB` as const } : {}),
    ...native,
    environment: {
      REELBRIDGE_STAGE: stack.stage,
      MEDIA_BUCKET: r.bucket.bucketName,
      BUS_NAME: r.bus.eventBusName,
      JOBS_TABLE: r.table.tableName,
      ...nativeEnvironment,
      ...environment,
    },
    bind: secrets,
    permissions: statementsFor(spec.permissions, r),
    ...rest,
  });
}

/** A topology name as a construct id: "render-step" → "RenderStep". */
export const pascal = (name: string) => name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
