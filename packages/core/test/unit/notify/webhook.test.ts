import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../../src/notify/http";
import { createLinkBuilder } from "../../../src/notify/links";
import { redactUrl, signWebhook, webhookIdFor, webhookPayload } from "../../../src/notify/webhook";
import { createMemoryBlobStore } from "../../support/memory-blob-store";
import { sample, SECRET } from "./fixtures";

describe("webhook ids", () => {
  it("are stable per (event, endpoint), differ per endpoint, and contain no dot", () => {
    const a = webhookIdFor("evt-1", "https://a.example/hook");
    expect(a).toBe(webhookIdFor("evt-1", "https://a.example/hook"));
    expect(a).not.toBe(webhookIdFor("evt-1", "https://b.example/hook"));
    expect(a).not.toBe(webhookIdFor("evt-2", "https://a.example/hook"));
    expect(a).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
  });
});

describe("signWebhook", () => {
  it("produces headers the standardwebhooks package verifies over the same bytes", () => {
    const body = JSON.stringify({ type: "video.completed", timestamp: "2026-11-20T10:00:00Z", data: { title: "Lisboa ☀️ 日本" } });
    const headers = signWebhook(SECRET, "msg_abc", new Date(), body);
    expect(headers["webhook-signature"]).toMatch(/^v1,/);
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(SECRET).verify(body + " ", headers)).toThrow();
  });
});

describe("webhookPayload", () => {
  it("maps each pipeline event to a thin typed payload", () => {
    const completed = webhookPayload(sample("RenderCompleted"), { video: "https://v" });
    expect(completed).toMatchObject({
      type: "video.completed",
      timestamp: "2026-11-20T10:02:20.000Z",
      data: { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AB", status: "completed", title: "Lisbon at golden hour", links: { video: "https://v" } },
    });
    expect(webhookPayload(sample("SegmentsReady"), {})).toMatchObject({ type: "video.segments_ready", data: { status: "completed", segments: { hlsMode: "copy" } } });
    const failed = webhookPayload(sample("RenderFailed"), {});
    expect(failed).toMatchObject({ type: "video.failed", data: { status: "failed", failedStep: "render", reason: { code: "RenderTimeout" } } });
    for (const t of ["VideoBaseFailed", "SegmentsFailed"] as const) expect(webhookPayload(sample(t), {}).type).toBe("video.failed");
    // Thin: no blobs, well under Standard Webhooks' 20 KB guidance even with long presigned links.
    expect(JSON.stringify(webhookPayload(sample("SegmentsReady"), { video: "x".repeat(2000), poster: "y".repeat(2000) })).length).toBeLessThan(20_000);
  });
});

describe("links", () => {
  it("presigns the video and poster, links the status API, and adds hls only with a public origin", async () => {
    const blobs = createMemoryBlobStore();
    const links = await createLinkBuilder({ blobs, statusApiBaseUrl: "https://api.example.com/" })(sample("SegmentsReady"));
    expect(links.status).toBe("https://api.example.com/jobs/01JD7X8Q2RZ4V6N3K5M9P1T0AB");
    // Presigned links last 1 h: the signing role's credentials would not honour more; links.status lasts.
    expect(links.video).toContain("final.mp4?X-Amz-Expires=3600");
    expect(links.poster).toContain("poster.jpg");
    expect(links.hls).toBeUndefined();
    const cdn = await createLinkBuilder({ blobs, publicMediaBaseUrl: "https://media.example.com" })(sample("SegmentsReady"));
    expect(cdn.hls).toBe("https://media.example.com/jobs/01JD7X8Q2RZ4V6N3K5M9P1T0AB/hls/index.m3u8");
    expect(await createLinkBuilder({ blobs })(sample("RenderFailed"))).toEqual({});
  });
});

describe("helpers", () => {
  it("redactUrl drops query, fragment and credentials", () => {
    expect(redactUrl("https://u:p@hooks.example.com/a/b?token=secret#x")).toBe("https://hooks.example.com/a/b");
  });
  it("parseRetryAfter reads seconds and HTTP dates", () => {
    const now = new Date("2026-11-20T10:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7);
    expect(parseRetryAfter("Fri, 20 Nov 2026 10:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});
