import { z } from "zod";

/**
 * The body Remotion Lambda POSTs to the webhook (REFERENCE §2.2; @remotion/serverless
 * `invokeWebhook`). Loose objects: Remotion adds fields between versions, and we read only these.
 */
const base = {
  renderId: z.string().min(1).max(256),
  bucketName: z.string().optional(),
  expectedBucketOwner: z.string().nullish(),
  customData: z.record(z.string(), z.unknown()).nullish(),
};

const errorInfo = z.looseObject({ message: z.string().optional(), name: z.string().optional(), stack: z.string().optional() });

export const remotionCostsSchema = z.looseObject({
  estimatedCost: z.number().nonnegative().optional(),
  /** getRenderProgress() calls it accruedSoFar. */
  accruedSoFar: z.number().nonnegative().optional(),
  estimatedDisplayCost: z.string().optional(),
  displayCost: z.string().optional(),
  currency: z.string().min(1),
  disclaimer: z.string().optional(),
});
export type RemotionCosts = z.infer<typeof remotionCostsSchema>;

export const remotionWebhookPayloadSchema = z.discriminatedUnion("type", [
  z.looseObject({
    ...base,
    type: z.literal("success"),
    outputUrl: z.string().nullish(),
    outputFile: z.string().nullish(),
    /** Milliseconds from the start of the render to the output being stored. */
    timeToFinish: z.number().nonnegative().nullish(),
    costs: remotionCostsSchema.nullish(),
    lambdaErrors: z.array(z.unknown()).optional(),
  }),
  z.looseObject({ ...base, type: z.literal("error"), errors: z.array(errorInfo).default([]) }),
  z.looseObject({ ...base, type: z.literal("timeout") }),
]);
export type RemotionWebhookPayload = z.infer<typeof remotionWebhookPayloadSchema>;
export type RemotionWebhookType = RemotionWebhookPayload["type"];

/** What customData carries (kept far below Remotion's 1 KB limit). */
/** What the render step puts in Remotion's customData: the job, and the render version for a re-render (docs/decisions/0009). */
export const renderCustomDataSchema = z.looseObject({ jobId: z.string().min(1), version: z.number().int().min(2).max(1_000).optional() });
export type RenderCustomData = z.infer<typeof renderCustomDataSchema>;
