// THE input-props contract of the Remotion compositions. The render step, the event contracts
// and the compositions all import it (`@reelbridge/remotion/props`), so it imports zod only:
// no React, no Remotion, nothing that touches a DOM or the file system.
import { z } from "zod";
import { DEFAULT_MUSIC_ID, musicIdSchema } from "./music";

export const ASPECTS = ["9:16", "16:9"] as const;
export type Aspect = (typeof ASPECTS)[number];

export const COMPOSITIONS = { "9:16": "ReelVertical", "16:9": "ReelLandscape" } as const satisfies Record<Aspect, string>;
export type CompositionId = (typeof COMPOSITIONS)[Aspect];
export const COMPOSITION_IDS = Object.values(COMPOSITIONS) as CompositionId[];

export const DIMENSIONS = {
  "9:16": { width: 1080, height: 1920 },
  "16:9": { width: 1920, height: 1080 },
} as const satisfies Record<Aspect, { width: number; height: number }>;

export const FPS = 30;
export const END_CARD_SECONDS = 2;
/** Keyframe interval the renderer encodes with, so the segmenter can cut without re-encoding. */
export const KEYFRAME_INTERVAL_SECONDS = 2;
export const MAX_BASE_VIDEO_SECONDS = 60;

export const TITLE_MAX_GRAPHEMES = 100;
export const SUBTITLE_MAX_GRAPHEMES = 160;
export const END_CARD_TEXT_MAX_GRAPHEMES = 60;

/** User-perceived characters: an emoji with modifiers or a combining sequence counts once. */
export const graphemeLength = (text: string): number => {
  let n = 0;
  for (const _ of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)) n++;
  return n;
};

// C0/C1 controls break layout and logs; line breaks are ours to decide.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

const text = (max: number, min = 0) =>
  z
    .string()
    .trim()
    .refine((s) => !CONTROL.test(s), { message: "must not contain control characters or line breaks" })
    .refine((s) => graphemeLength(s) >= min, { message: `must have at least ${min} character(s)` })
    .refine((s) => graphemeLength(s) <= max, { message: `must have at most ${max} characters` });

/**
 * Media the browser fetches while rendering: an absolute http(s) URL (a presigned S3 GET, the
 * local renderer's media server) or a root-relative path inside the bundle (staticFile()).
 */
export const mediaUrlSchema = z.string().refine(
  (s) => {
    if (s.startsWith("/")) return !s.startsWith("//") && !s.split("/").includes("..");
    try {
      const u = new URL(s);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  },
  { message: "must be an http(s) URL or a path inside the bundle" },
);

export const renderInputPropsSchema = z.object({
  title: text(TITLE_MAX_GRAPHEMES, 1),
  subtitle: text(SUBTITLE_MAX_GRAPHEMES).optional(),
  aspect: z.enum(ASPECTS),
  baseVideoUrl: mediaUrlSchema,
  baseVideoDurationSeconds: z.number().positive().max(MAX_BASE_VIDEO_SECONDS),
  /** A track of the catalog (music.ts); played from the bundle unless musicUrl is set. */
  musicId: musicIdSchema.optional(),
  /** Overrides musicId with any audio file the renderer can fetch. */
  musicUrl: mediaUrlSchema.optional(),
  musicVolume: z.number().min(0).max(1).optional(),
  logoUrl: mediaUrlSchema.optional(),
  endCardText: text(END_CARD_TEXT_MAX_GRAPHEMES).optional(),
});

/** What the compositions receive (after parsing: trimmed strings). */
export type RenderInputProps = z.infer<typeof renderInputPropsSchema>;
/** What a producer may send (before parsing). */
export type RenderInputPropsInput = z.input<typeof renderInputPropsSchema>;

export const DEFAULT_MUSIC_VOLUME = 0.5;
export { DEFAULT_MUSIC_ID };

export const compositionIdFor = (aspect: Aspect): CompositionId => COMPOSITIONS[aspect];

/** Frames of the base clip; the end card starts right after them. */
export const baseClipFrames = (baseVideoDurationSeconds: number): number => Math.max(1, Math.ceil(baseVideoDurationSeconds * FPS));

export const durationInFrames = (baseVideoDurationSeconds: number): number =>
  baseClipFrames(baseVideoDurationSeconds) + Math.round(END_CARD_SECONDS * FPS);
