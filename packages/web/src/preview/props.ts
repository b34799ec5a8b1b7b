import { DEFAULT_MUSIC_ID, isMusicId } from "@reelbridge/remotion/music";
import { DIMENSIONS, FPS, baseClipFrames, durationInFrames } from "@reelbridge/remotion/props";
import type { Aspect } from "@reelbridge/remotion/props";
import type { ReelProps } from "@reelbridge/remotion/reel";

/** What the form holds that the video shows. */
export interface PreviewInput {
  title: string;
  subtitle: string;
  music: string;
  aspect: Aspect;
  durationSeconds: number;
  /** The chosen photo (an object URL), or undefined before one is chosen. */
  photoUrl: string | undefined;
}

/** Where the base clip will be before a photo is chosen: a dark, neutral still. */
export const PLACEHOLDER_STILL =
  "data:image/svg+xml," +
  encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="16"><defs><linearGradient id="g" x2="0" y2="1"><stop offset="0" stop-color="#3b4a6b"/><stop offset="1" stop-color="#1a2133"/></linearGradient></defs><rect width="9" height="16" fill="url(#g)"/></svg>');

/** Lengths the preview accepts (the upload contract's bounds); anything else previews the default. */
const MIN_SECONDS = 2;
const MAX_SECONDS = 20;
export const DEFAULT_SECONDS = 6;

/**
 * The composition's input props for the form's current values, built as the render step builds
 * them for the job (packages/core usecases/start-render.ts): the title and subtitle trimmed, the
 * subtitle only when there is one, the catalog's music id, the base clip as long as the length
 * asked for. The photo stands where the animated clip will be.
 */
export function previewProps(input: PreviewInput): ReelProps {
  const seconds = Number.isInteger(input.durationSeconds) && input.durationSeconds >= MIN_SECONDS && input.durationSeconds <= MAX_SECONDS ? input.durationSeconds : DEFAULT_SECONDS;
  const subtitle = input.subtitle.trim();
  return {
    title: input.title.trim(),
    ...(subtitle ? { subtitle } : {}),
    aspect: input.aspect,
    baseStillUrl: input.photoUrl ?? PLACEHOLDER_STILL,
    baseVideoDurationSeconds: seconds,
    musicId: isMusicId(input.music) ? input.music : DEFAULT_MUSIC_ID,
  };
}

/** The Player's frame geometry for those props: the composition's own. */
export function previewGeometry(props: Pick<ReelProps, "aspect" | "baseVideoDurationSeconds">) {
  const { width, height } = DIMENSIONS[props.aspect];
  return {
    width,
    height,
    fps: FPS,
    durationInFrames: durationInFrames(props.baseVideoDurationSeconds),
    /** The first frame of the end card. */
    endCardFrame: baseClipFrames(props.baseVideoDurationSeconds),
  };
}
