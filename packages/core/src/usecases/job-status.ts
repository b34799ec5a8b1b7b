import type { JobParams } from "@reelbridge/events";
import type { BlobStore, Clock, GeneratedVideo, JobRecord, JobStatus, JobStore, TimelineEntry } from "../ports";
import { InvalidListRequestError, JobNotFoundError } from "../jobs/errors";

/** Presigned GET URLs live this long. */
export const STATUS_URL_TTL_SECONDS = 15 * 60;
export const LIST_LIMIT_MAX = 50;
export const LIST_LIMIT_DEFAULT = 20;

/** Who asks. `undefined` means auth is off on this stage: anyone may read any job. */
export type Caller = { owner: string } | undefined;

export interface PresignedUrl {
  url: string;
  /** When the URL stops working (ISO 8601). */
  expiresAt: string;
}

export interface JobStatusView {
  jobId: string;
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  /** What the user asked for; null only for a job whose upload carried no parameters. */
  params: Omit<JobParams, "owner" | "callbackUrl" | "jobId" | "createdAt"> & { callbackUrl?: string } | null;
  failure?: { type: string; code: string; message: string };
  timeline: TimelineEntry[];
  outputs: {
    video?: PresignedUrl & { filename: string };
    hlsPlaylist?: PresignedUrl;
    clips: PresignedUrl[];
    poster?: PresignedUrl;
  };
  /** The generated_videos row, with video_url and thumbnail_url as presigned URLs. */
  video?: GeneratedVideo;
  notifications: NonNullable<JobRecord["notifications"]>;
}

export interface JobStatusDeps {
  jobs: JobStore;
  blobs: Pick<BlobStore, "presignGet">;
  clock: Clock;
}

/** Scheme, host and path: a callback's query string may hold a token and is never echoed. */
const withoutQuery = (url: string) => {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return undefined;
  }
};

const readable = (record: JobRecord | undefined, caller: Caller): record is JobRecord =>
  record !== undefined && (caller === undefined || (record.owner !== "" && record.owner === caller.owner));

/**
 * GET /jobs/{jobId}: the job's status, timeline, parameters and outputs as presigned GET URLs
 * (15 minutes). A job that is not the caller's answers exactly like one that does not exist.
 */
export async function getJobStatus(deps: JobStatusDeps, req: { jobId: string; caller: Caller }): Promise<JobStatusView> {
  const record = await deps.jobs.get(req.jobId);
  if (!readable(record, req.caller)) throw new JobNotFoundError(req.jobId);

  const expiresAt = new Date(deps.clock.now().getTime() + STATUS_URL_TTL_SECONDS * 1000).toISOString();
  const presign = async (key: string, downloadFileName?: string): Promise<PresignedUrl> => ({
    url: await deps.blobs.presignGet(key, { expiresInSeconds: STATUS_URL_TTL_SECONDS, ...(downloadFileName ? { downloadFileName } : {}) }),
    expiresAt,
  });

  const o = record.outputs;
  const filename = record.video?.filename;
  const [video, hlsPlaylist, poster, clips] = await Promise.all([
    o.finalVideoKey ? presign(o.finalVideoKey, filename) : undefined,
    o.hlsPlaylistKey ? presign(o.hlsPlaylistKey) : undefined,
    o.posterKey ? presign(o.posterKey) : undefined,
    Promise.all((o.clipKeys ?? []).map((k) => presign(k))),
  ]);

  const p = record.params as JobParams | undefined;
  let params: JobStatusView["params"] = null;
  if (p) {
    const { owner: _o, callbackUrl, jobId: _j, createdAt: _c, ...rest } = p;
    const cb = callbackUrl ? withoutQuery(callbackUrl) : undefined;
    params = { ...rest, ...(cb ? { callbackUrl: cb } : {}) };
  }

  return {
    jobId: record.jobId,
    status: record.status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    params,
    ...(record.failure ? { failure: { type: record.failure.type, code: record.failure.code, message: record.failure.message } } : {}),
    timeline: record.timeline,
    outputs: {
      ...(video ? { video: { ...video, filename: filename ?? `${record.jobId}.mp4` } } : {}),
      ...(hlsPlaylist ? { hlsPlaylist } : {}),
      clips,
      ...(poster ? { poster } : {}),
    },
    ...(record.video ? { video: { ...record.video, video_url: video?.url ?? record.video.video_url, thumbnail_url: poster?.url ?? null } } : {}),
    notifications: record.notifications ?? [],
  };
}

export interface JobSummary {
  jobId: string;
  status: JobStatus;
  title: string | null;
  createdAt: string;
  updatedAt: string;
  failure?: { code: string; message: string };
}

/** GET /jobs: the caller's jobs, newest first; `cursor` continues where the last page ended. */
export async function listJobs(
  deps: { jobs: JobStore },
  req: { owner: string; limit?: number; cursor?: string },
): Promise<{ items: JobSummary[]; cursor?: string }> {
  const limit = req.limit ?? LIST_LIMIT_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) {
    throw new InvalidListRequestError(`limit must be an integer from 1 to ${LIST_LIMIT_MAX}`);
  }
  const page = await deps.jobs.listByOwner(req.owner, { limit, ...(req.cursor ? { cursor: req.cursor } : {}) });
  return {
    items: page.items.map((r) => ({
      jobId: r.jobId,
      status: r.status,
      title: (r.params as JobParams | undefined)?.title ?? null,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      ...(r.failure ? { failure: { code: r.failure.code, message: r.failure.message } } : {}),
    })),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}
