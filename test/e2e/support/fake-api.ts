import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import { promisify } from "node:util";
// By path: the repository root has no workspace dependencies. The fake answers with the
// published HTTP contract's types and validates requests with its schema, like the real APIs.
import { DEFAULT_MAX_UPLOAD_BYTES, uploadRequestSchema } from "@reelbridge/events/http";
import type { ErrorBody, JobList, JobView, UploadResponse } from "@reelbridge/events/http";
import { quoteJob } from "@reelbridge/core/jobs/cost";

/**
 * A stand-in for `reelbridge dev` that speaks the same contracts (upload API, presigned POST to
 * a storage endpoint on another port with S3's XML errors, status API), so the page can be
 * developed and tested without the pipeline. Jobs advance on a timer; the "final video" is a
 * small H.264 clip made once with FFmpeg, packaged as HLS with a poster and a clip.
 */
export interface FakeStack {
  /** The page: http://127.0.0.1:<port>/ */
  url: string;
  /** The storage endpoint the presigned POST points at. */
  storageUrl: string;
  close(): Promise<void>;
}

const run = promisify(execFile);
const STEP_MS = 700;
const MAX_BYTES = DEFAULT_MAX_UPLOAD_BYTES;
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".mp4": "video/mp4",
  ".m3u8": "application/vnd.apple.mpegurl",
  ".ts": "video/mp2t",
  ".jpg": "image/jpeg",
};

interface FakeJob {
  jobId: string;
  params: NonNullable<JobView["params"]>;
  contentType: string;
  createdAt: string;
  status?: JobView["status"];
  timeline: JobView["timeline"];
  failure?: JobView["failure"];
}

async function makeMedia(dir: string): Promise<void> {
  await mkdir(join(dir, "hls"), { recursive: true });
  const ff = (args: string[]) => run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args]);
  await ff([
    "-f", "lavfi", "-i", "testsrc2=size=360x640:rate=24", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
    "-t", "6", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-profile:v", "main", "-g", "24", "-c:a", "aac", "-b:a", "64k",
    "-movflags", "+faststart", join(dir, "final.mp4"),
  ]);
  await ff(["-i", join(dir, "final.mp4"), "-c", "copy", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_segment_filename", join(dir, "hls", "seg%03d.ts"), join(dir, "hls", "index.m3u8")]);
  await ff(["-ss", "1", "-i", join(dir, "final.mp4"), "-frames:v", "1", join(dir, "poster.jpg")]);
  await ff(["-ss", "0", "-t", "3", "-i", join(dir, "final.mp4"), "-c", "copy", join(dir, "clip-1.mp4")]);
}

const s3Error = (res: ServerResponse, status: number, code: string, message: string) => {
  res.writeHead(status, { "content-type": "application/xml", "access-control-allow-origin": "*" });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomUUID()}</RequestId></Error>`);
};

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

/** Splits a multipart/form-data body into fields and the file (small bodies only). */
function parseMultipart(body: Buffer, contentType: string): { fields: Record<string, string>; file?: { name: string; bytes: Buffer }; order: string[] } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const sep = Buffer.from(`--${boundary?.[1] ?? boundary?.[2]}`);
  const fields: Record<string, string> = {};
  const order: string[] = [];
  let file: { name: string; bytes: Buffer } | undefined;
  let pos = body.indexOf(sep);
  while (pos >= 0) {
    const start = pos + sep.length + 2;
    const next = body.indexOf(sep, start);
    if (next < 0) break;
    const part = body.subarray(start, next - 2);
    const headerEnd = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, headerEnd).toString();
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]*)"/.exec(headers)?.[1] ?? "";
    order.push(name);
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    if (filename !== undefined) file = { name: filename, bytes: content };
    else fields[name] = content.toString();
    pos = next;
  }
  return { fields, file, order };
}

const isImage = (b: Buffer) =>
  (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) ||
  b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) ||
  (b.subarray(0, 4).toString() === "RIFF" && b.subarray(8, 12).toString() === "WEBP");

async function serveFile(req: IncomingMessage, res: ServerResponse, path: string) {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error("not a file");
    size = s.size;
  } catch {
    res.writeHead(404).end();
    return;
  }
  const type = TYPES[extname(path)] ?? "application/octet-stream";
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
  const base = { "content-type": type, "accept-ranges": "bytes", "access-control-allow-origin": "*" };
  if (range) {
    const start = range[1] ? Number(range[1]) : size - Number(range[2]);
    const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    res.writeHead(206, { ...base, "content-range": `bytes ${start}-${end}/${size}`, "content-length": end - start + 1 });
    createReadStream(path, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { ...base, "content-length": size });
  createReadStream(path).pipe(res);
}

const listen = (server: Server) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

export async function startFakeStack(opts: { webDist: string; workDir: string; musicIds?: string[] }): Promise<FakeStack> {
  const mediaDir = join(opts.workDir, "media");
  await makeMedia(mediaDir);
  const jobs = new Map<string, FakeJob>();
  const musicIds = opts.musicIds ?? ["sunrise", "pulse"];
  let seq = 0;
  const newJobId = () => `01K${String(Date.now()).padStart(15, "0").slice(-15)}${String(seq++).padStart(8, "0")}`.slice(0, 26).replace(/[ILOU]/g, "0");

  const storage = createServer((req, res) => {
    if (req.method === "OPTIONS") {
      res.writeHead(204, { "access-control-allow-origin": "*", "access-control-allow-methods": "POST", "access-control-allow-headers": "*" }).end();
      return;
    }
    void (async () => {
      const body = await readBody(req);
      const { fields, file, order } = parseMultipart(body, req.headers["content-type"] ?? "");
      if (!file) return s3Error(res, 400, "InvalidArgument", "POST requires exactly one file upload per request.");
      if (order[order.length - 1] !== "file") return s3Error(res, 400, "InvalidArgument", "the file must be the last field");
      const jobId = /^uploads\/([^/]+)\/source$/.exec(fields.key ?? "")?.[1];
      const job = jobId ? jobs.get(jobId) : undefined;
      if (!job || fields.policy !== `policy-${jobId}`) return s3Error(res, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed");
      if (fields["Content-Type"] !== job.contentType) return s3Error(res, 403, "AccessDenied", `Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "${job.contentType}"]`);
      if (file.bytes.length > MAX_BYTES) return s3Error(res, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
      if (file.bytes.length === 0) return s3Error(res, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size");
      res.writeHead(204, { "access-control-allow-origin": "*" }).end();
      advance(job, isImage(file.bytes));
    })();
  });

  const event = (job: FakeJob, type: string, summary: string) => job.timeline.push({ eventId: randomUUID(), type, time: new Date().toISOString(), summary });
  function advance(job: FakeJob, image: boolean) {
    const steps: Array<() => void> = image
      ? [
          () => (job.status = "generating"),
          () => { job.status = "generated"; event(job, "VideoBaseReady", "base clip 6.0 s 360×640 by fake in 0.7 s"); },
          () => { job.status = "rendering"; event(job, "RenderStarted", "render r-1 started on fake"); },
          () => { job.status = "rendered"; event(job, "RenderCompleted", "final video 6.0 s 360×640, 0.10 MB"); },
          () => { job.status = "completed"; event(job, "SegmentsReady", "HLS (3 segments), 1 clips and a poster"); },
        ]
      : [
          () => {
            job.status = "failed";
            job.failure = { type: "VideoBaseFailed", code: "InvalidImage", message: "the upload is not a decodable image" };
            event(job, "VideoBaseFailed", "base clip failed: InvalidImage");
          },
        ];
    steps.forEach((s, i) => setTimeout(s, (i + 1) * STEP_MS));
  }

  let apiBase = "";
  let storageUrl = "";
  const view = (job: FakeJob & { status: JobView["status"] }): JobView => {
    const done = job.status === "completed";
    const media = `${apiBase.replace(/\/api$/, "")}/media`;
    const expiresAt = new Date(Date.now() + 900_000).toISOString();
    return {
      jobId: job.jobId,
      status: job.status,
      createdAt: job.createdAt,
      updatedAt: new Date().toISOString(),
      params: job.params,
      timeline: job.timeline,
      ...(job.failure ? { failure: job.failure } : {}),
      outputs: done
        ? {
            video: { url: `${media}/final.mp4`, expiresAt, filename: `${job.jobId}.mp4` },
            hlsPlaylist: { url: `${media}/hls/index.m3u8` },
            clips: [{ url: `${media}/clip-1.mp4`, expiresAt }],
            poster: { url: `${media}/poster.jpg`, expiresAt },
          }
        : { clips: [] },
      notifications: [],
    };
  };

  const web = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    void (async () => {
      if (url.pathname === "/config.json") return json(res, 200, { apiBase });
      if (url.pathname === "/api/uploads" && req.method === "POST") {
        let body: unknown;
        try {
          body = JSON.parse((await readBody(req)).toString());
        } catch {
          return json(res, 400, { error: "InvalidRequest", message: "the body must be JSON", details: [{ field: "(body)", message: "not valid JSON" }] } satisfies ErrorBody);
        }
        const parsed = uploadRequestSchema(musicIds).safeParse(body);
        if (!parsed.success) {
          const details = parsed.error.issues.map((i) => ({ field: i.path.map(String).join(".") || "(body)", message: i.message }));
          return json(res, 400, { error: "InvalidRequest", message: "the upload request is invalid", details } satisfies ErrorBody);
        }
        const jobId = newJobId();
        const { contentType, ...params } = parsed.data;
        const job: FakeJob = { jobId, params, contentType, createdAt: new Date().toISOString(), timeline: [] };
        jobs.set(jobId, job);
        const expiresAt = new Date(Date.now() + 600_000).toISOString();
        return json(res, 201, {
          jobId,
          upload: { url: storageUrl, fields: { key: `uploads/${jobId}/source`, "Content-Type": job.contentType, policy: `policy-${jobId}`, "x-amz-signature": "fake" }, expiresAt, maxBytes: MAX_BYTES },
          statusUrl: `/jobs/${jobId}`,
          quote: quoteJob(params, { ltx: { provider: "offline", model: "ltx-2-fast" }, renderer: "remotion-local" }),
        } satisfies UploadResponse);
      }
      const jobMatch = /^\/api\/jobs\/([^/]+)$/.exec(url.pathname);
      if (jobMatch && req.method === "GET") {
        const job = jobs.get(jobMatch[1]!);
        // Like the real status API: unknown until the pipeline records the job's first step.
        if (!job?.status) return json(res, 404, { error: "JobNotFound", message: `no job ${jobMatch[1]}` } satisfies ErrorBody);
        return json(res, 200, view({ ...job, status: job.status }));
      }
      if (url.pathname === "/api/jobs" && req.method === "GET") {
        const items: JobList["items"] = [...jobs.values()].flatMap((j) => (j.status ? [{ jobId: j.jobId, status: j.status, title: j.params.title, createdAt: j.createdAt, updatedAt: j.createdAt }] : [])).reverse();
        return json(res, 200, { items } satisfies JobList);
      }
      if (url.pathname.startsWith("/media/")) return serveFile(req, res, join(mediaDir, normalize(url.pathname.slice("/media/".length)).replace(/^(\.\.[/\\])+/, "")));
      const rel = normalize(url.pathname === "/" ? "index.html" : url.pathname.slice(1)).replace(/^(\.\.[/\\])+/, "");
      try {
        await stat(join(opts.webDist, rel));
        return serveFile(req, res, join(opts.webDist, rel));
      } catch {
        res.writeHead(200, { "content-type": TYPES[".html"] });
        res.end(await readFile(join(opts.webDist, "index.html")));
      }
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });

  const storagePort = await listen(storage);
  const webPort = await listen(web);
  storageUrl = `http://127.0.0.1:${storagePort}/media-bucket`;
  apiBase = `http://127.0.0.1:${webPort}/api`;
  return {
    url: `http://127.0.0.1:${webPort}/`,
    storageUrl,
    close: async () => {
      web.closeAllConnections();
      storage.closeAllConnections();
      await Promise.all([new Promise((r) => web.close(r)), new Promise((r) => storage.close(r))]);
    },
  };
}
