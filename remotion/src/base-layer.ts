// How the composition draws the base clip, in one place. The Reel component draws it with these
// values; the local renderer's composite (packages/local/src/render/composite.ts) renders the
// composition's other layers with Remotion (`layers: "overlay"`) and has FFmpeg draw the base clip
// under them from the same values (docs/decisions/0016-local-render-composite.md).
export const BASE_LAYER = {
  /** CSS object-fit of the clip over the whole frame: scaled to cover it, centred, cropped. */
  fit: "cover",
  /** What shows where there is no clip: behind it, and after it (under the end card). */
  background: "black",
} as const;

/**
 * What a render draws: every layer (Remotion Lambda, the Player, the local renderer's page mode),
 * or only what lies over the base clip, on a transparent background, for the local composite.
 */
export type ReelLayers = "all" | "overlay";
