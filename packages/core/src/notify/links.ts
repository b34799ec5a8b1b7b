import type { PipelineEvent } from "@reelbridge/events";
import type { BlobStore } from "../ports";
import type { NotifiedEvent, WebhookLinks } from "./webhook";

export interface LinkOptions {
  /** Signs GET URLs for the media bucket. */
  blobs: Pick<BlobStore, "presignGet">;
  /** Base URL of the status API (e.g. its Function URL); the link is `{base}/jobs/{jobId}`. */
  statusApiBaseUrl?: string;
  /**
   * Lifetime of presigned links. Default 24 h. S3 caps SigV4 URLs at 7 days, and a URL signed
   * with a Lambda role's temporary credentials stops working when those credentials expire
   * (hours), whatever it says: the status link is the durable one.
   */
  presignExpiresInSeconds?: number;
  /**
   * A public origin serving jobs/ (a CDN in front of the bucket). When set, links point there
   * instead of being presigned, and an `hls` link is included: a presigned playlist cannot be
   * played because the segments it names would be fetched unsigned.
   */
  publicMediaBaseUrl?: string;
}

export const DEFAULT_LINK_TTL_SECONDS = 24 * 3600;

/** Builds a webhook's links: never the media itself, only where to get it. */
export function createLinkBuilder(opts: LinkOptions): (event: NotifiedEvent) => Promise<WebhookLinks> {
  const ttl = opts.presignExpiresInSeconds ?? DEFAULT_LINK_TTL_SECONDS;
  const status = opts.statusApiBaseUrl?.replace(/\/+$/, "");
  const media = opts.publicMediaBaseUrl?.replace(/\/+$/, "");
  const link = (key: string, downloadFileName?: string) =>
    media
      ? Promise.resolve(`${media}/${key.split("/").map(encodeURIComponent).join("/")}`)
      : opts.blobs.presignGet(key, { expiresInSeconds: ttl, ...(downloadFileName ? { downloadFileName } : {}) });

  return async (event) => {
    const jobId = event.detail.metadata.jobId;
    const links: WebhookLinks = status ? { status: `${status}/jobs/${encodeURIComponent(jobId)}` } : {};
    switch (event["detail-type"]) {
      case "RenderCompleted":
      case "SegmentsFailed": {
        const key = (event as PipelineEvent<"RenderCompleted" | "SegmentsFailed">).detail.data.video.key;
        links.video = await link(key, `${jobId}.mp4`);
        break;
      }
      case "SegmentsReady": {
        const d = (event as PipelineEvent<"SegmentsReady">).detail.data;
        links.video = await link(d.video.key, `${jobId}.mp4`);
        links.poster = await link(d.posterKey);
        if (media) links.hls = await link(d.hls.playlistKey);
        break;
      }
      default:
        break;
    }
    return links;
  };
}
