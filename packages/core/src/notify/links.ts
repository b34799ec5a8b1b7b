import type { PipelineEvent } from "@reelbridge/events";
import type { BlobStore } from "../ports";
import type { NotifiedEvent, WebhookLinks } from "./webhook";

/**
 * The `links` of a webhook payload (WebhookLinks in webhook.ts):
 *   - `links.status` is the lasting link: the job in the status API, valid as long as the job
 *     exists. Receivers should keep it, and fetch fresh media links from it when they need them.
 *   - `links.video` / `links.poster` are presigned GETs, for fetching the media right away: they
 *     are valid for DEFAULT_LINK_TTL_SECONDS (1 h) at most, and can stop working sooner, because
 *     in AWS they are signed with the notifier role's temporary credentials, which expire
 *     within hours whatever a URL's own X-Amz-Expires says.
 *   - with a public media origin, `video`, `poster` and `hls` point there and do not expire.
 */

export interface LinkOptions {
  /** Signs GET URLs for the media bucket. */
  blobs: Pick<BlobStore, "presignGet">;
  /** Base URL of the status API (e.g. its Function URL); the link is `{base}/jobs/{jobId}`. */
  statusApiBaseUrl?: string;
  /**
   * Lifetime of presigned links. Default 1 h: a URL signed with a Lambda role's temporary
   * credentials stops working when those credentials expire (hours), whatever it says, so a
   * longer promise could not be kept; the status link is the durable one.
   */
  presignExpiresInSeconds?: number;
  /**
   * A public origin serving jobs/ (a CDN in front of the bucket). When set, links point there
   * instead of being presigned, and an `hls` link is included: a presigned playlist cannot be
   * played because the segments it names would be fetched unsigned.
   */
  publicMediaBaseUrl?: string;
}

/** Presigned webhook links promise no more than the signing credentials can keep (see above). */
export const DEFAULT_LINK_TTL_SECONDS = 3600;

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
