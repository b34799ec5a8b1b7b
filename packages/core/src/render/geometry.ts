/**
 * The size Remotion writes for a composition rendered at a `scale`, so the render step can say
 * what will be rendered before it is (issue #12 item 7: record what was rendered).
 *
 * Remotion (@remotion/renderer 4.0.527, validate-even-dimensions-with-codec.js and
 * render-media.js): for H.264 each side is first lowered, one pixel at a time, until
 * `Math.round(side * scale)` is even; the output is then `Math.round(side * scale)`.
 * 1080×1920 at 0.3 → 324×576; 1920×1080 at 0.3 → 576×324; at 1 nothing changes.
 */

/** Remotion's validateScale: a finite number in (0, 16]. */
export const isValidScale = (scale: number): boolean => Number.isFinite(scale) && scale > 0 && scale <= 16;

export class InvalidRenderScaleError extends RangeError {
  readonly code = "InvalidRenderScale";
  constructor(readonly scale: number, detail?: string) {
    super(detail ? `render scale ${scale} ${detail}` : `render scale must be a finite number above 0 and at most 16 (Remotion's limits), not ${scale}`);
    this.name = "InvalidRenderScaleError";
  }
}

/** One side of an H.264 render at `scale`, as Remotion computes it. */
export const scaledSide = (side: number, scale: number): number => {
  if (!isValidScale(scale)) throw new InvalidRenderScaleError(scale);
  let s = side;
  // Ends: at worst Math.round(s * scale) reaches 0, which is even.
  while (Math.round(s * scale) % 2 !== 0) s--;
  const out = Math.round(s * scale);
  if (out <= 0) throw new InvalidRenderScaleError(scale, `renders a ${side} px side at ${out} px`);
  return out;
};

/** The output size of a width × height composition rendered with H.264 at `scale`. */
export const scaledSize = (size: { width: number; height: number }, scale: number): { width: number; height: number } => ({
  width: scaledSide(size.width, scale),
  height: scaledSide(size.height, scale),
});
