import type { JobParams } from "@reelbridge/events";
import type { GeneratedVideo, JobStatus } from "../ports";

/** What RenderCompleted reports about the final video, kept on the job record. */
export interface RenderedVideo {
  key: string;
  sizeBytes: number;
  durationSeconds: number;
  width: number;
  height: number;
  fps: number;
  renderId: string;
  completedAt: string;
}

const MAX_SLUG = 60;

/**
 * A filename-safe slug of any Unicode title: accents are folded to ASCII (NFKD, combining marks
 * dropped), everything else that is not [a-z0-9] becomes one "-". Titles with no Latin letters
 * or digits at all (CJK, Arabic, emoji) give "video". ASCII only, so the name is safe in
 * Content-Disposition headers, zip files and every filesystem.
 */
export function slugify(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/ß/g, "ss")
    .replace(/[æÆ]/g, "ae")
    .replace(/[øØ]/g, "o")
    .replace(/[łŁ]/g, "l")
    .replace(/[đĐ]/g, "d")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, MAX_SLUG)
    .replace(/-+$/g, "");
  return slug || "video";
}

/** `<slug-of-title>-<jobId>.mp4` */
export const videoFilename = (title: string, jobId: string) => `${slugify(title)}-${jobId}.mp4`;

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * The `generated_videos` row of a rendered job.
 *
 * - `video_url` and `thumbnail_url` hold object KEYS in the media bucket, not URLs: the bucket
 *   is private, so readers (the status API) presign them when they answer.
 * - `thumbnail_url` is the poster's key once SegmentsReady arrived, null before.
 * - `file_size_mb` is bytes / 1024² with two decimals; `generation_time_seconds` is
 *   RenderCompleted.completedAt − job.createdAt (upload to finished render), two decimals.
 * - `music_file` is the music catalog id the job was made with.
 */
export function toGeneratedVideo(params: JobParams, rendered: RenderedVideo, extra: { status: JobStatus; posterKey?: string }): GeneratedVideo {
  const created = Date.parse(params.createdAt);
  const completed = Date.parse(rendered.completedAt);
  return {
    id: params.jobId,
    user_id: params.owner,
    title: params.title,
    subtitle: params.subtitle,
    video_url: rendered.key,
    thumbnail_url: extra.posterKey ?? null,
    filename: videoFilename(params.title, params.jobId),
    file_size_mb: round2(rendered.sizeBytes / (1024 * 1024)),
    duration_seconds: rendered.durationSeconds,
    resolution: `${rendered.width}x${rendered.height}`,
    camera_prompt: params.cameraPrompt,
    music_file: params.music,
    status: extra.status,
    generation_time_seconds: Number.isFinite(completed - created) ? Math.max(0, round2((completed - created) / 1000)) : 0,
    created_at: new Date(created).toISOString(),
  };
}
