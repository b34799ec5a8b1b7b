import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as events from "aws-cdk-lib/aws-events";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { Function as SstFunction } from "sst/constructs";
import type { Config, FunctionProps, Stack } from "sst/constructs";
import type { Permission, SecretName } from "../../packages/functions/src/topology";
import { statementsFor } from "./permissions";

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
  spec: { name: string; handler: string; timeoutSeconds: number; memoryMB: number; permissions: Permission[]; description: string },
  r: FunctionResources,
  extra: Partial<FunctionProps> = {},
): SstFunction {
  const secrets = spec.permissions.flatMap((p) => (p.kind === "secret" ? [r.secrets[p.name]] : []));
  const { environment, ...rest } = extra;
  return new SstFunction(stack, id, {
    handler: spec.handler,
    description: spec.description.slice(0, 256),
    timeout: spec.timeoutSeconds,
    memorySize: spec.memoryMB,
    environment: {
      REELBRIDGE_STAGE: stack.stage,
      MEDIA_BUCKET: r.bucket.bucketName,
      BUS_NAME: r.bus.eventBusName,
      JOBS_TABLE: r.table.tableName,
      ...environment,
    },
    bind: secrets,
    permissions: statementsFor(spec.permissions, r),
    ...rest,
  });
}

/** A topology name as a construct id: "render-step" → "RenderStep". */
export const pascal = (name: string) => name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
