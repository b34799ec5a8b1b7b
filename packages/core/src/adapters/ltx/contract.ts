import { z } from "zod";

/**
 * Lightricks' LTX-2 API contract as this adapter relies on it (REFERENCE.md §1; docs.ltx.video
 * async-jobs, submit-image-to-video, get-job-status, rate-limits, authentication). The fake
 * server in packages/local speaks the same contract, built from these definitions.
 */

export const LTX_DEFAULT_BASE_URL = "https://api.ltx.video";

export const LTX_MODELS = ["ltx-2-fast", "ltx-2-pro", "ltx-2-3-fast", "ltx-2-3-pro", "ltx-2-5-fast", "ltx-2-5-pro"] as const;
export type LtxModel = (typeof LTX_MODELS)[number];

export const LTX_RESOLUTIONS = ["1920x1080", "1080x1920", "2560x1440", "1440x2560", "3840x2160", "2160x3840"] as const;
export type LtxResolution = (typeof LTX_RESOLUTIONS)[number];

export const LTX_FPS = [24, 25, 48, 50] as const;

export const LTX_CAMERA_MOTIONS = ["dolly_in", "dolly_out", "dolly_left", "dolly_right", "jib_up", "jib_down", "static", "focus_shift"] as const;

export const LTX_MAX_PROMPT_CHARS = 5000;

/** `POST /v2/image-to-video` body (the fields v1 and v2 share, §1.3). */
export const submitImageToVideoSchema = z.object({
  image_uri: z.string().min(1),
  prompt: z.string().min(1).max(LTX_MAX_PROMPT_CHARS),
  model: z.enum(LTX_MODELS),
  duration: z.number().int().positive(),
  resolution: z.enum(LTX_RESOLUTIONS),
  fps: z.union(LTX_FPS.map((f) => z.literal(f))).optional(),
  generate_audio: z.boolean().optional(),
  camera_motion: z.enum(LTX_CAMERA_MOTIONS).optional(),
  last_frame_uri: z.string().min(1).optional(),
});
export type SubmitImageToVideo = z.infer<typeof submitImageToVideoSchema>;

/** 202 Accepted. */
export const submitAcceptedSchema = z.looseObject({ id: z.string().min(1), created_at: z.string().optional() });

export const LTX_STATUSES = ["pending", "processing", "completed", "failed"] as const;

/** `GET /v2/image-to-video/{id}`. Kept loose: unknown statuses are treated as "not finished". */
export const jobStatusSchema = z.looseObject({
  id: z.string().min(1),
  status: z.string().min(1),
  created_at: z.string().optional(),
  completed_at: z.string().nullish(),
  result: z.looseObject({ video_url: z.string().min(1).optional() }).nullish(),
  error: z.union([z.string(), z.looseObject({ type: z.string().optional(), message: z.string().optional() })]).nullish(),
});
export type LtxJobStatus = z.infer<typeof jobStatusSchema>;

/** `{"type":"error","error":{"type":"authentication_error","message":"Invalid API key"}}` */
export const errorEnvelopeSchema = z.looseObject({
  type: z.literal("error"),
  error: z.looseObject({ type: z.string(), message: z.string().optional() }),
});

export function parseErrorEnvelope(text: string): { type?: string; message?: string } {
  try {
    const parsed = errorEnvelopeSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { type: parsed.data.error.type, ...(parsed.data.error.message ? { message: parsed.data.error.message } : {}) };
  } catch {
    // not JSON: fall through
  }
  return {};
}

export const errorBody = (type: string, message: string) => ({ type: "error", error: { type, message } });

/**
 * Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3). Returns seconds ≥ 0, or undefined
 * when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - now) / 1000);
}

export const isFastModel = (model: string) => /-fast$/.test(model);

/**
 * Durations LTX accepts per model (§1.3, secondary): fast models 6–20 s, where 12–20 s needs
 * 1080p at 25 fps; pro models 6–10 s. Returns the duration and fps to ask for: a request
 * outside the range is brought inside it (the event reports the clip's probed values, so the
 * render step sees the truth), and a long fast clip is asked at 25 fps.
 */
export function fitToModel(model: string, durationSeconds: number, fps: number): { duration: number; fps: number; adjusted: string[] } {
  const adjusted: string[] = [];
  let duration = Math.round(durationSeconds);
  if (duration !== durationSeconds) adjusted.push(`duration ${durationSeconds} s rounded to ${duration} s`);
  const max = isFastModel(model) ? 20 : 10;
  if (duration < 6) {
    adjusted.push(`duration ${duration} s raised to ${model}'s minimum of 6 s`);
    duration = 6;
  } else if (duration > max) {
    adjusted.push(`duration ${duration} s lowered to ${model}'s maximum of ${max} s`);
    duration = max;
  }
  let outFps = fps;
  if (isFastModel(model) && duration > 10 && outFps !== 25) {
    adjusted.push(`fps ${outFps} changed to 25: ${model} makes clips over 10 s only at 25 fps`);
    outFps = 25;
  }
  return { duration, fps: outFps, adjusted };
}
