import { z } from "zod";

/** Aspect ratios the pipeline renders. */
export const aspects = ["9:16", "16:9"] as const;
export const aspectSchema = z.enum(aspects);
export type Aspect = z.infer<typeof aspectSchema>;

/**
 * A ULID: 26 Crockford base32 characters, time-ordered, so job ids sort by creation time.
 */
export const jobIdSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a ULID (26 Crockford base32 characters)");

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** User-perceived characters: an emoji family or a letter with accents counts once. */
export const graphemeCount = (s: string): number => {
  let n = 0;
  for (const _ of graphemes.segment(s)) n++;
  return n;
};

/**
 * Limits of the text the video shows. They equal the composition's (remotion/src/props.ts), so a
 * job the upload API accepts can always be rendered; core's limits test holds them together.
 */
export const TEXT_LIMITS = { title: 100, subtitle: 160, cameraPrompt: 500 } as const;

/**
 * Text the user typed: any Unicode (accents, CJK, RTL, emoji), trimmed, bounded in graphemes
 * (what a person counts), with a code-unit bound (20×: an emoji family with skin tones is 19
 * code units) that JSON Schema can express too.
 */
const userText = (max: number) =>
  z
    .string()
    .trim()
    .max(max * 20, `at most ${max} characters`)
    .refine((s) => graphemeCount(s) <= max, `at most ${max} characters`)
    // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
    .refine((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s), "must not contain control characters");

export const MUSIC_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Clip options for the segmenter: fixed-length clips, or explicit cut points in seconds. */
export const clipOptionsSchema = z.union([
  z.object({ lengthSeconds: z.number().min(1).max(60) }),
  z.object({ cutPoints: z.array(z.number().min(0).max(600)).min(1).max(20) }),
]);
export type ClipOptions = z.infer<typeof clipOptionsSchema>;

/**
 * What the user asked for. Travels from the upload form (as signed object metadata) through
 * every event (event-carried state), so no step reads another step's database.
 */
export const jobParamsSchema = z.object({
  jobId: jobIdSchema,
  title: userText(TEXT_LIMITS.title).pipe(z.string().min(1, "must not be empty")),
  subtitle: userText(TEXT_LIMITS.subtitle),
  cameraPrompt: userText(TEXT_LIMITS.cameraPrompt),
  /** An id from the project's music catalog. */
  music: z.string().regex(MUSIC_ID_PATTERN, "must be a music catalog id"),
  aspect: aspectSchema,
  /** Requested length of the base clip, seconds. */
  durationSeconds: z.number().int().min(2).max(20),
  /** Subject of the caller's token, or "anonymous" on open stages. */
  owner: z.string().min(1).max(256),
  /** Where the notifier POSTs this job's webhooks. */
  callbackUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  clips: clipOptionsSchema.optional(),
  /** When the upload API issued the job (ISO 8601). */
  createdAt: z.iso.datetime({ offset: true }),
  /**
   * The upload API's own invocation that issued the job, measured up to signing the upload
   * (duration, configured memory, architecture): its line of the job's cost (issue #13 item 1,
   * docs/decisions/0012). Set by the upload API only, signed with the rest of the parameters;
   * absent on jobs issued before it was measured.
   */
  uploadInvocation: z
    .object({
      ms: z.number().nonnegative().max(900_000),
      memoryMB: z.number().int().positive().max(10_240),
      arch: z.enum(["arm64", "x86_64"]),
    })
    .optional(),
});
export type JobParams = z.infer<typeof jobParamsSchema>;

/** Where a blob lives: the media bucket (or the local blob store) and its key. */
export const objectRefSchema = z.object({
  bucket: z.string().min(1),
  key: z.string().min(1),
});
export type ObjectRef = z.infer<typeof objectRefSchema>;

export const videoInfoSchema = z.object({
  bucket: z.string().min(1),
  key: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
  durationSeconds: z.number().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number().positive(),
});
export type VideoInfo = z.infer<typeof videoInfoSchema>;
