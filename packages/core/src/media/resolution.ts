/**
 * The frame the LTX step generates for each aspect (no sharp here: the upload API's quote and
 * the cost ledger use it too). media/image.ts re-exports it.
 */
export type Aspect = "9:16" | "16:9";
export type LtxResolution = "1080x1920" | "1920x1080";

export function targetResolution(aspect: Aspect): { width: number; height: number; resolution: LtxResolution } {
  return aspect === "9:16"
    ? { width: 1080, height: 1920, resolution: "1080x1920" }
    : { width: 1920, height: 1080, resolution: "1920x1080" };
}
