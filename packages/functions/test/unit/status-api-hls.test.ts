import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { BlobNotFoundError } from "@reelbridge/core";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import { openCaller } from "@reelbridge/core/upload/auth";
import type { CallerVerifier } from "@reelbridge/core/upload/auth";
import { UnauthorizedError } from "@reelbridge/core/upload/errors";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import segmentsSample from "@reelbridge/events/samples/v1/SegmentsReady.json";
import { createHandler } from "../../src/status-api";
import type { Deps } from "../../src/status-api";

process.env.LOG_LEVEL = "SILENT";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const RENDERING = "01JD7X8Q2RZ4V6N3K5M9P1T0AD";
const ORIGIN = "https://reelbridge.example.com";
const HOST = "abc123.lambda-url.eu-west-1.on.aws";
const PLAYLIST = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.000000,\nsegment-000.ts\n#EXTINF:2.000000,\nsegment-001.ts\n#EXT-X-ENDLIST\n";
const jobs = createMemoryJobStore();

const fakeJwt: CallerVerifier = {
  open: false,
  verify: async (authorization) => {
    const m = /^Bearer token-for:(.+)$/.exec(authorization ?? "");
    if (!m?.[1]) throw new UnauthorizedError("a bearer token is required", 'Bearer realm="reelbridge"');
    return { owner: m[1] };
  },
};

const deps = (auth: CallerVerifier, extra: Partial<Deps> = {}): Deps => ({
  jobs,
  blobs: {
    presignGet: async (key, o) => `https://media.example/${key}?X-Amz-Expires=${o.expiresInSeconds}`,
    get: async (key) => {
      if (key !== `jobs/${JOB}/hls/index.m3u8`) throw new BlobNotFoundError(key);
      return { bytes: new TextEncoder().encode(PLAYLIST), sizeBytes: PLAYLIST.length, metadata: {} };
    },
  },
  clock: { now: () => new Date("2026-11-20T12:00:00.000Z") },
  auth,
  webOrigins: [ORIGIN],
  ...extra,
});

function request(method: string, path: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers,
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.1", userAgent: "test" } } as APIGatewayProxyEventV2["requestContext"],
    isBase64Encoded: false,
  };
}

async function call(d: Deps, method: string, path: string, headers: Record<string, string> = {}) {
  const res = (await createHandler(async () => d)(request(method, path, { host: HOST, "x-forwarded-proto": "https", ...headers }), {} as Context)) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, headers: (res.headers ?? {}) as Record<string, string>, text: String(res.body ?? "") };
}

const playlistPath = (jobId: string) => `/jobs/${jobId}/hls/index.m3u8`;
const owner = { authorization: "Bearer token-for:user_2f9a" };

beforeAll(async () => {
  for (const s of [readySample, completedSample, segmentsSample]) {
    await jobs.apply(pipelineEvents[s["detail-type"] as DetailType].event.parse(structuredClone(s)) as PipelineEvent<DetailType>);
  }
  const e = pipelineEvents.VideoBaseReady.event.parse(structuredClone(readySample));
  e.detail.metadata.jobId = RENDERING;
  e.detail.data.job = { ...e.detail.data.job, jobId: RENDERING };
  await jobs.apply(e);
});

describe("GET /jobs/{jobId}/hls/index.m3u8", () => {
  it("serves the owner a playable playlist: tags kept, segments presigned, private short cache, CORS", async () => {
    const res = await call(deps(fakeJwt), "GET", playlistPath(JOB), { ...owner, origin: ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/vnd.apple.mpegurl");
    expect(res.headers["cache-control"]).toBe("private, max-age=60");
    expect(res.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(res.text).toBe(
      PLAYLIST.replace("segment-000.ts", `https://media.example/jobs/${JOB}/hls/segment-000.ts?X-Amz-Expires=3600`).replace(
        "segment-001.ts",
        `https://media.example/jobs/${JOB}/hls/segment-001.ts?X-Amz-Expires=3600`,
      ),
    );
  });

  it("applies the same owner check as the job: 404 for someone else, 401 without a token", async () => {
    const other = await call(deps(fakeJwt), "GET", playlistPath(JOB), { authorization: "Bearer token-for:intruder" });
    expect(other.status).toBe(404);
    expect(JSON.parse(other.text).error).toBe("JobNotFound");
    expect(other.text).not.toContain("media.example");
    expect((await call(deps(fakeJwt), "GET", playlistPath(JOB))).status).toBe(401);
  });

  it("is 404 HlsNotReady while the job has not been packaged; 400 for a bad id; preflight allowed", async () => {
    const res = await call(deps(openCaller), "GET", playlistPath(RENDERING));
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text).error).toBe("HlsNotReady");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect((await call(deps(openCaller), "GET", playlistPath("not-a-ulid"))).status).toBe(400);
    const preflight = await call(deps(openCaller), "OPTIONS", playlistPath(JOB), { origin: ORIGIN });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe(ORIGIN);
  });
});

describe("GET /jobs/{jobId} names the playlist route, never a presigned playlist", () => {
  const hlsOf = async (d: Deps, headers: Record<string, string> = {}) =>
    JSON.parse((await call(d, "GET", `/jobs/${JOB}`, { ...owner, ...headers })).text).outputs.hlsPlaylist;

  it("builds the URL from the Function URL request's host and scheme", async () => {
    expect(await hlsOf(deps(fakeJwt))).toEqual({ url: `https://${HOST}${playlistPath(JOB)}` });
    expect(await hlsOf(deps(fakeJwt), { host: "127.0.0.1:9999", "x-forwarded-proto": "http" })).toEqual({ url: `http://127.0.0.1:9999${playlistPath(JOB)}` });
  });

  it("uses the configured public base URL when there is one (the local runtime's /api mount)", async () => {
    expect(await hlsOf(deps(fakeJwt, { publicBaseUrl: "http://127.0.0.1:5173/api/" }))).toEqual({ url: `http://127.0.0.1:5173/api${playlistPath(JOB)}` });
  });

  it("leaves the playlist out rather than echo an implausible host", async () => {
    expect(await hlsOf(deps(fakeJwt), { host: "evil.example/path?x=" })).toBeUndefined();
    expect(await hlsOf(deps(fakeJwt), { "x-forwarded-proto": "javascript" })).toBeUndefined();
  });

  it("a job still rendering has no playlist", async () => {
    const res = JSON.parse((await call(deps(openCaller), "GET", `/jobs/${RENDERING}`)).text);
    expect(res.outputs.hlsPlaylist).toBeUndefined();
  });
});
