// Everything in the composition that changes from frame to frame, as one pure function of the
// frame: the Reel component draws each frame from reelFrame() and nothing else moves (the base
// clip aside). Two frames with equal reelFrame() values therefore draw the same overlay, which the
// local renderer's composite uses to capture each distinct overlay once (decision 0016); the
// integration test renders every frame as well and requires the same video.
import { interpolate, spring } from "remotion";
import { baseClipFrames } from "./props";

export type ReelFrame =
  | {
      part: "base";
      title: { opacity: number; offsetY: number };
      subtitle: { opacity: number; offsetY: number };
      logoOpacity: number;
    }
  | { part: "end"; opacity: number; textScale: number };

const clamp = { extrapolateLeft: "clamp", extrapolateRight: "clamp" } as const;

/** The state of frame `frame` (of the whole composition) for a base clip of `baseVideoDurationSeconds`. */
export const reelFrame = (frame: number, fps: number, baseVideoDurationSeconds: number): ReelFrame => {
  const baseFrames = baseClipFrames(baseVideoDurationSeconds);
  if (frame < baseFrames) {
    const enter = (delay: number) => spring({ frame: frame - delay, fps, config: { damping: 200 }, durationInFrames: 18 });
    // The titles go out over the clip's last 8 frames.
    const exit = interpolate(frame, [baseFrames - 8, baseFrames], [1, 0], clamp);
    const t = enter(4);
    const s = enter(12);
    return {
      part: "base",
      title: { opacity: t * exit, offsetY: (1 - t) * 40 },
      subtitle: { opacity: s * exit, offsetY: (1 - s) * 30 },
      logoOpacity: interpolate(frame, [0, 12], [0, 1], { extrapolateRight: "clamp" }),
    };
  }
  const f = frame - baseFrames;
  const pop = spring({ frame: f - 4, fps, config: { damping: 14 }, durationInFrames: 24 });
  return { part: "end", opacity: interpolate(f, [0, 10], [0, 1], { extrapolateRight: "clamp" }), textScale: 0.85 + 0.15 * pop };
};
