import type { JobCost, JobParams } from "@reelbridge/events";
import type { BlobStore, Clock, GeneratedVideo, JobRecord, JobStatus, JobStore, RenderVersionEntry, TimelineEntry } from "../ports";
import { BlobNotFoundError } from "../ports";
import { InvalidListRequestError, JobNotFoundError } from "../jobs/errors";
import { isJobKey, jobPrefix } from "../upload/keys";
import { jobProgress } from "./step-progress";
import type { JobProgress, StepProgressDeps } from "./step-progress";

/** Presigned GET URLs live this long. */
export const STATUS_URL_TTL_SECONDS = 15 * 60;
/**
 * Segment URLs inside a served playlist live this long: a viewer may pause and resume well
 * after the playlist was fetched (a player re-fetches only live playlists, not VOD ones).
 */
export const HLS_SEGMENT_URL_TTL_SECONDS = 60 * 60;
/** How long a browser may reuse a served playlist: far less than its segment URLs live. */
export const HLS_PLAYLIST_MAX_AGE_SECONDS = 60;
export const HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl";
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
    /**
     * The status API's playlist route (GET /jobs/{jobId}/hls/index.m3u8), which serves the
     * playlist with every segment presigned. It does not expire itself; the segment URLs in
     * each answer do. A presigned URL of the stored playlist is never given: its segment URIs
     * are relative, so a player would fetch them unsigned from a private bucket.
     */
    hlsPlaylist?: { url: string };
    clips: PresignedUrl[];
    poster?: PresignedUrl;
  };
  /** The generated_videos row, with video_url and thumbnail_url as presigned URLs. */
  video?: GeneratedVideo;
  notifications: NonNullable<JobRecord["notifications"]>;
  /** What the job has cost so far, line by line (failed jobs too). */
  cost?: JobCost;
  /** Every render version, oldest first, once the job was re-rendered (docs/decisions/0009). */
  versions?: RenderVersionView[];
  latestVersion?: number;
  /** The steps running now and how far they are (step-progress.ts). */
  progress?: JobProgress;
}

/** One render version as the status API shows it. */
export interface RenderVersionView {
  version: number;
  status: RenderVersionEntry["status"];
  title: string;
  subtitle: string;
  music: string;
  aspect: JobParams["aspect"];
  requestedAt: string;
  updatedAt: string;
  failure?: { type: string; code: string; message: string };
  outputs: { video?: PresignedUrl; clips: PresignedUrl[]; poster?: PresignedUrl };
}

export interface JobStatusDeps {
  jobs: JobStore;
  blobs: Pick<BlobStore, "presignGet">;
  clock: Clock;
  /** Where the running steps' progress is read (step state, the renderer); without it the view has no `progress`. */
  progress?: StepProgressDeps;
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
export async function getJobStatus(
  deps: JobStatusDeps,
  req: {
    jobId: string;
    caller: Caller;
    /** Where this job's playlist route answers; without it the view names no playlist. */
    hlsPlaylistUrl?: string;
  },
): Promise<JobStatusView> {
  const record = await deps.jobs.get(req.jobId);
  if (!readable(record, req.caller)) throw new JobNotFoundError(req.jobId);

  const expiresAt = new Date(deps.clock.now().getTime() + STATUS_URL_TTL_SECONDS * 1000).toISOString();
  const presign = async (key: string, downloadFileName?: string): Promise<PresignedUrl> => ({
    url: await deps.blobs.presignGet(key, { expiresInSeconds: STATUS_URL_TTL_SECONDS, ...(downloadFileName ? { downloadFileName } : {}) }),
    expiresAt,
  });

  // Only keys inside the job's own folder are signed (issue #11 items 3 and 4): a record that
  // names anything else (written before events were checked) shows no such output, never a
  // URL for another job's media, and never fails the request.
  const own = (key: string | undefined): key is string => key !== undefined && isJobKey(key, record.jobId);
  const o = record.outputs;
  const filename = record.video?.filename;
  const hlsPlaylist = own(o.hlsPlaylistKey) && req.hlsPlaylistUrl ? { url: req.hlsPlaylistUrl } : undefined;
  const [video, poster, clips] = await Promise.all([
    own(o.finalVideoKey) ? presign(o.finalVideoKey, filename) : undefined,
    own(o.posterKey) ? presign(o.posterKey) : undefined,
    Promise.all((o.clipKeys ?? []).filter(own).map((k) => presign(k))),
  ]);

  const p = record.params as JobParams | undefined;
  let params: JobStatusView["params"] = null;
  if (p) {
    const { owner: _o, callbackUrl, jobId: _j, createdAt: _c, ...rest } = p;
    const cb = callbackUrl ? withoutQuery(callbackUrl) : undefined;
    params = { ...rest, ...(cb ? { callbackUrl: cb } : {}) };
  }

  const versions = record.versions
    ? await Promise.all(
        record.versions.map(async (v): Promise<RenderVersionView> => {
          const [vVideo, vPoster, vClips] = await Promise.all([
            own(v.outputs.finalVideoKey) ? presign(v.outputs.finalVideoKey) : undefined,
            own(v.outputs.posterKey) ? presign(v.outputs.posterKey) : undefined,
            Promise.all((v.outputs.clipKeys ?? []).filter(own).map((k) => presign(k))),
          ]);
          return {
            version: v.version,
            status: v.status,
            ...v.params,
            requestedAt: v.requestedAt,
            updatedAt: v.updatedAt,
            ...(v.failure ? { failure: { type: v.failure.type, code: v.failure.code, message: v.failure.message } } : {}),
            outputs: { ...(vVideo ? { video: vVideo } : {}), clips: vClips, ...(vPoster ? { poster: vPoster } : {}) },
          };
        }),
      )
    : undefined;
  const progress = deps.progress ? await jobProgress(deps.progress, record, deps.clock.now()) : undefined;

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
    ...(record.cost ? { cost: record.cost } : {}),
    ...(versions ? { versions, latestVersion: record.latestVersion ?? versions[versions.length - 1]!.version } : {}),
    ...(progress ? { progress } : {}),
  };
}

/** The job exists (and is the caller's) but has no HLS package yet, or it is gone: 404. */
export class HlsNotReadyError extends Error {
  readonly code = "HlsNotReady";
  constructor(readonly jobId: string, message = `job ${jobId} has no HLS playlist yet`) {
    super(message);
    this.name = "HlsNotReadyError";
  }
}

/** The recorded playlist is not a package of this job's (a key outside its folder): it has no usable HLS, a 404 like HlsNotReady. */
export class HlsPackageInvalidError extends HlsNotReadyError {
  constructor(jobId: string, message: string) {
    super(jobId, message);
    this.name = "HlsPackageInvalidError";
  }
}

export interface HlsPlaylistDeps {
  jobs: JobStore;
  blobs: Pick<BlobStore, "get" | "presignGet">;
  clock: Clock;
}

/**
 * GET /jobs/{jobId}/hls/index.m3u8: the stored playlist with each segment URI replaced by a
 * presigned GET URL (HLS_SEGMENT_URL_TTL_SECONDS), so a player can stream from a private
 * bucket. Same owner rule as getJobStatus. `expiresAt` is when the first segment URL stops working.
 */
export async function getHlsPlaylist(deps: HlsPlaylistDeps, req: { jobId: string; caller: Caller }): Promise<{ playlist: string; expiresAt: string }> {
  const record = await deps.jobs.get(req.jobId);
  if (!readable(record, req.caller)) throw new JobNotFoundError(req.jobId);
  const playlistKey = record.outputs.hlsPlaylistKey;
  if (!playlistKey) throw new HlsNotReadyError(req.jobId);
  const jobPrefixKey = jobPrefix(record.jobId);
  if (!isJobKey(playlistKey, record.jobId)) throw new HlsPackageInvalidError(req.jobId, `the recorded playlist ${JSON.stringify(playlistKey.slice(0, 200))} is outside ${jobPrefixKey}`);

  let text: string;
  try {
    text = new TextDecoder().decode((await deps.blobs.get(playlistKey)).bytes);
  } catch (err) {
    if (err instanceof BlobNotFoundError) throw new HlsNotReadyError(req.jobId);
    throw err;
  }
  const expiresAt = new Date(deps.clock.now().getTime() + HLS_SEGMENT_URL_TTL_SECONDS * 1000).toISOString();
  const playlist = await rewriteHlsPlaylist(text, async (uri) => {
    let key: string | undefined;
    try {
      key = resolveSegmentKey(playlistKey, uri);
    } catch {
      throw new HlsPackageInvalidError(req.jobId, `playlist ${playlistKey} names ${JSON.stringify(uri.slice(0, 200))}, which is not a valid URI`);
    }
    if (key === undefined) return uri;
    // The segmenter only writes inside the job's folder; never sign anything else.
    if (!isJobKey(key, record.jobId)) throw new HlsPackageInvalidError(req.jobId, `playlist ${playlistKey} names ${JSON.stringify(uri.slice(0, 200))}, outside ${jobPrefixKey}`);
    return deps.blobs.presignGet(key, { expiresInSeconds: HLS_SEGMENT_URL_TTL_SECONDS });
  });
  return { playlist, expiresAt };
}

/**
 * The object key a playlist's URI names, resolved against the playlist's own key like a URL;
 * undefined for an absolute URL (already fetchable, left as it is).
 */
export function resolveSegmentKey(playlistKey: string, uri: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith("//")) return undefined;
  const base = new URL(`http://bucket/${playlistKey.split("/").map(encodeURIComponent).join("/")}`);
  return decodeURIComponent(new URL(uri, base).pathname.slice(1));
}

const MAP_URI = /^(#EXT-X-MAP:.*\bURI=")([^"]*)(".*)$/;

/**
 * Rewrites a media playlist's URIs with `sign`: every URI line (a line that is neither blank
 * nor starts with "#") and the URI attribute of #EXT-X-MAP (fMP4 init segment). Tags,
 * comments, blank lines and line endings are kept as they are.
 */
export async function rewriteHlsPlaylist(text: string, sign: (uri: string) => Promise<string>): Promise<string> {
  const lines = text.split(/(?<=\n)/);
  const signed = new Map<string, Promise<string>>();
  const once = (uri: string) => {
    if (!signed.has(uri)) signed.set(uri, sign(uri));
    return signed.get(uri)!;
  };
  const out = await Promise.all(
    lines.map(async (raw) => {
      const eol = /\r?\n$/.exec(raw)?.[0] ?? "";
      const line = raw.slice(0, raw.length - eol.length);
      const uri = line.trim();
      if (uri === "") return raw;
      if (uri.startsWith("#")) {
        const m = MAP_URI.exec(line);
        return m ? `${m[1]}${await once(m[2]!)}${m[3]}${eol}` : raw;
      }
      return `${await once(uri)}${eol}`;
    }),
  );
  return out.join("");
}

export interface JobSummary {
  jobId: string;
  status: JobStatus;
  title: string | null;
  createdAt: string;
  updatedAt: string;
  failure?: { code: string; message: string };
  costUsd?: number;
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
      ...(r.cost ? { costUsd: r.cost.totalUsd } : {}),
    })),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}
