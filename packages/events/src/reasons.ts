import { z } from "zod";

/**
 * Stable reason codes carried by every *Failed event and shown to users. Adding a code is an
 * additive change (consumers must tolerate unknown codes); renaming or removing one is breaking.
 */
export const reasonCodes = [
  // ingest
  "InvalidUpload",
  "EmptyFile",
  "InvalidImage",
  "UnsupportedFormat",
  "ImageTooLarge",
  // generation
  "GenerationRejected",
  "InsufficientCredits",
  "GenerationFailed",
  "GenerationExpired",
  // render
  "RenderStartFailed",
  "RenderError",
  "RenderTimeout",
  // segmenter
  "FfmpegFailed",
  // notifier
  "EndpointGone",
  "EndpointRejected",
  "DeliveryFailed",
  "UnsafeEndpoint",
  // cost ledger: the job would cross its stage's budget cap (per job or per owner per day)
  "BudgetExceeded",
  // any step
  "InvalidEvent",
  "RetriesExhausted",
  "Internal",
] as const;
export const reasonCodeSchema = z.enum(reasonCodes);
export type ReasonCode = z.infer<typeof reasonCodeSchema>;

export const failureReasonSchema = z.object({
  code: reasonCodeSchema,
  /** A sentence for humans; never contains secrets. */
  message: z.string().min(1).max(2000),
  /** Whether retrying the same input could succeed (false for every *Failed event today). */
  retryable: z.boolean(),
});
export type FailureReason = z.infer<typeof failureReasonSchema>;
