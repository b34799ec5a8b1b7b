/**
 * Time from an "Object Created" event to the video generator being called, for a 12-megapixel
 * JPEG: upload read + metadata decode + validation + normalisation (EXIF orientation, cover crop
 * to 1080×1920, JPEG encode) + image write + presign. In-memory blob store, step state and
 * publisher; the generator is a stub that stops the clock. Target: under 1 s.
 *
 *   pnpm exec tsx bench/ingest-object-created.ts [iterations]
 *
 * Prints JSON lines {name, value, unit}.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { JobParams, S3ObjectCreatedEvent } from "@reelbridge/events";
import { readMp4Info } from "@reelbridge/core/adapters/ltx/mp4-info";
import { createJsonLogger } from "@reelbridge/core/logger";
import { createMemoryPublisher } from "@reelbridge/core/publish";
import { encodeJobMetadata } from "@reelbridge/core/upload/metadata";
import { ingestUpload } from "@reelbridge/core/usecases/ingest-upload";
import type { IngestUploadDeps } from "@reelbridge/core/usecases/ingest-upload";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";

// sharp is core's dependency, not the workspace root's: resolve it from there.
type Sharp = (input: Buffer, opts: { raw: { width: number; height: number; channels: 3 } }) => {
  jpeg(o: { quality: number }): { withMetadata(o: { orientation: number }): { toBuffer(): Promise<Buffer> } };
};
const sharp = createRequire(new URL("../packages/core/package.json", import.meta.url))("sharp") as Sharp;

const iterations = Number(process.argv[2] ?? 7);
const CLIP = new Uint8Array(readFileSync(new URL("../packages/core/test/unit/ltx/fixtures/base-1080x1920-24fps-2s.mp4", import.meta.url)));
const sample = JSON.parse(readFileSync(new URL("../packages/events/samples/v1/VideoBaseReady.json", import.meta.url), "utf8"));
const s3Sample = JSON.parse(readFileSync(new URL("../packages/events/samples/v1/S3ObjectCreated.json", import.meta.url), "utf8"));

const line = (name: string, value: number, unit: string) => console.log(JSON.stringify({ name, value: Math.round(value * 10) / 10, unit }));

/** A photo-like 4000×3000 landscape JPEG (smooth gradients + sensor-like noise), as phones shoot it, with EXIF orientation 6. */
async function photo12mp(): Promise<Uint8Array> {
  const w = 4000;
  const h = 3000;
  const raw = Buffer.alloc(w * h * 3);
  let seed = 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = (seed >> 27) - 8;
      const i = (y * w + x) * 3;
      raw[i] = Math.max(0, Math.min(255, ((x * 255) / w + n) | 0));
      raw[i + 1] = Math.max(0, Math.min(255, ((y * 255) / h + n) | 0));
      raw[i + 2] = Math.max(0, Math.min(255, (128 + 100 * Math.sin((x + y) / 150) + n) | 0));
    }
  }
  return new Uint8Array(await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 88 }).withMetadata({ orientation: 6 }).toBuffer());
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function main() {
  const jpeg = await photo12mp();
  line("ingest.input.megapixels", 12, "MP");
  line("ingest.input.size", jpeg.byteLength / 1024, "KiB");

  const blobs = createMemoryBlobStore({ bucket: "bench-media" });
  const timings: number[] = [];
  let started = 0;
  let reachedGenerator = 0;
  const deps: IngestUploadDeps = {
    blobs,
    state: createMemoryStepStateStore(),
    publisher: createMemoryPublisher(),
    generator: {
      name: "stub",
      checkIntervalSeconds: { first: 0, next: 0 },
      async submit() {
        reachedGenerator = performance.now();
        return { generationId: "stub-1" };
      },
      async check() {
        return { status: "completed", video: CLIP, contentType: "video/mp4" };
      },
    },
    clock: { now: () => new Date() },
    probeVideo: readMp4Info,
    maxInputPixels: 50_000_000,
    fps: 24,
    presignExpiresSeconds: 900,
  };
  const logger = createJsonLogger({}, () => {});

  // Job ids: valid ULIDs that differ in the last characters.
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  for (let i = 0; i < iterations + 1; i++) {
    const jobId = `01JD7X8Q2RZ4V6N3K5M9P1T0${alphabet[Math.floor(i / 32)]}${alphabet[i % 32]}`;
    const params = { ...sample.detail.data.job, jobId } as JobParams;
    blobs.seed(`uploads/${jobId}/source`, jpeg, { contentType: "image/jpeg", metadata: encodeJobMetadata(params) });
    const event = structuredClone(s3Sample) as S3ObjectCreatedEvent;
    event.detail.bucket.name = "bench-media";
    event.detail.object.key = `uploads/${jobId}/source`;
    started = performance.now();
    const out = await ingestUpload(deps, event, { logger });
    // Submitting is the first delivery's end: it returns "checking" (the queue brings the look back).
    if (out.status !== "checking") throw new Error(`iteration ${i}: ${JSON.stringify(out)}`);
    if (i > 0) timings.push(reachedGenerator - started); // the first run warms sharp/libvips up
  }
  line("ingest.objectCreatedToGenerator.median", percentile(timings, 50), "ms");
  line("ingest.objectCreatedToGenerator.p95", percentile(timings, 95), "ms");
  line("ingest.objectCreatedToGenerator.max", Math.max(...timings), "ms");
  line("ingest.objectCreatedToGenerator.target", 1000, "ms");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
