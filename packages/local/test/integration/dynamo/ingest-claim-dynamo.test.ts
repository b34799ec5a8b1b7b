import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobParams, S3ObjectCreatedEvent } from "@reelbridge/events";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import s3Sample from "@reelbridge/events/samples/v1/S3ObjectCreated.json";
import { createDynamoStepStateStore } from "@reelbridge/core/adapters/aws/dynamodb-step-state-store";
import { readMp4Info } from "@reelbridge/core/adapters/ltx/mp4-info";
import { TransientError } from "@reelbridge/core/errors";
import { createJsonLogger } from "@reelbridge/core/logger";
import type { VideoGenerator } from "@reelbridge/core/ports";
import { createMemoryPublisher } from "@reelbridge/core/publish";
import { encodeJobMetadata } from "@reelbridge/core/upload/metadata";
import { GENERATION_STATE, generationClaimName, ingestUpload } from "@reelbridge/core/usecases/ingest-upload";
import type { IngestUploadDeps } from "@reelbridge/core/usecases/ingest-upload";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { fixtureUrl } from "@reelbridge/testing/fixtures";
import { createJobsTable, startLocalDynamo } from "../../../src/dynamo";
import type { LocalDynamo } from "../../../src/dynamo";

// The claim that keeps a duplicated upload from paying twice rests on DynamoDB's conditional
// put: checked here against the emulator the local runtime uses, through the production adapter.

const CLIP = new Uint8Array(readFileSync(fixtureUrl("unit/ltx/fixtures/base-1080x1920-24fps-2s.mp4")));
const PHOTO = new Uint8Array(readFileSync(fixtureUrl("unit/ingest/fixtures/photo-300x400.jpg")));
const logger = createJsonLogger({}, () => {});
const table = "jobs";

let dynamo: LocalDynamo;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reelbridge-ingest-claim-"));
  dynamo = await startLocalDynamo({ dataDir: dir });
  await createJobsTable(dynamo.client, table);
});
afterAll(async () => {
  await dynamo?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A provider that takes a while to accept the job, counting what it was paid for. */
function slowGenerator(acceptAfter: Promise<void>) {
  const submitted: string[] = [];
  const generator: VideoGenerator = {
    name: "fake-ltx",
    checkIntervalSeconds: { first: 30, next: 10 },
    async submit() {
      await acceptAfter;
      const id = `gen-${submitted.length + 1}`;
      submitted.push(id);
      return { generationId: id };
    },
    async check() {
      return { status: "completed", video: CLIP, contentType: "video/mp4" };
    },
  };
  return { generator, submitted };
}

function setup(jobId: string, generator: VideoGenerator, now: () => Date = () => new Date()) {
  const blobs = createMemoryBlobStore({ bucket: "media" });
  const params = { ...structuredClone(readySample.detail.data.job), jobId } as JobParams;
  blobs.seed(`uploads/${jobId}/source`, PHOTO, { contentType: "image/jpeg", metadata: encodeJobMetadata(params) });
  const publisher = createMemoryPublisher();
  const state = createDynamoStepStateStore(dynamo.doc, { table });
  const deps: IngestUploadDeps = {
    blobs,
    state,
    publisher,
    generator,
    clock: { now },
    probeVideo: readMp4Info,
    maxInputPixels: 50_000_000,
    fps: 24,
    presignExpiresSeconds: 900,
  };
  return { deps, publisher, state };
}

const objectCreated = (jobId: string, id: string): S3ObjectCreatedEvent => {
  const e = structuredClone(s3Sample) as S3ObjectCreatedEvent;
  e.id = id;
  e.detail.bucket.name = "media";
  e.detail.object.key = `uploads/${jobId}/source`;
  return e;
};

describe("generation claim on the DynamoDB step-state store (emulator)", () => {
  it("six concurrent deliveries of one upload pay for one generation; the rest go back to the queue, then replay", async () => {
    const job = "01JD7X8Q2RZ4V6N3K5M9P1T0B1";
    const gate = Promise.withResolvers<void>();
    const { generator, submitted } = slowGenerator(gate.promise);
    const { deps, publisher, state } = setup(job, generator);

    const runs = Array.from({ length: 6 }, (_, i) => ingestUpload(deps, objectCreated(job, `s3-${i}`), { logger }));
    // Everyone but the holder gives up at the claim while the provider has not accepted yet.
    const settled = runs.map((p) => p.then(() => "ok" as const, (e: unknown) => e));
    // A generous wait: six claims against dynalite on a loaded 2-core CI machine can take seconds.
    await expect.poll(async () => (await Promise.all(settled.map((p) => Promise.race([p, Promise.resolve("pending")])))).filter((r) => r instanceof TransientError).length, { timeout: 20_000 }).toBe(5);
    gate.resolve();
    const results = await Promise.all(settled);
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(submitted).toEqual(["gen-1"]);
    expect(await state.get(job, generationClaimName(2))).toBeUndefined();

    // Redelivered later, the first to come back looks at the generation and finishes it; every other re-publishes the same VideoBaseReady.
    expect(await ingestUpload(deps, objectCreated(job, "s3-0"), { logger, attempt: 2 })).toMatchObject({ status: "ready", replayed: false });
    for (let i = 1; i < 6; i++) expect(await ingestUpload(deps, objectCreated(job, `s3-${i}`), { logger })).toMatchObject({ status: "ready", replayed: true });
    expect(submitted).toEqual(["gen-1"]);
    expect(new Set(publisher.published.map((e) => e.eventId))).toEqual(new Set([`${job}.VideoBaseStarted`, `${job}.VideoBaseReady`]));
    expect(await state.get(job, GENERATION_STATE)).toMatchObject({ generationId: "gen-1", status: "completed" });
  });

  it("takes over a claim whose holder died before submitting, once its lease ran out", async () => {
    const job = "01JD7X8Q2RZ4V6N3K5M9P1T0B2";
    const { generator, submitted } = slowGenerator(Promise.resolve());
    let now = Date.parse("2026-11-20T10:00:00.000Z");
    const { deps, state } = setup(job, generator, () => new Date(now));
    await state.putIfAbsent(job, generationClaimName(1), { owner: "crashed", claimedAt: "2026-11-20T09:59:00.000Z", leaseUntil: "2026-11-20T10:14:00.000Z" });

    await expect(ingestUpload(deps, objectCreated(job, "s3-a"), { logger })).rejects.toMatchObject({ retryAfterSeconds: 30 });
    expect(submitted).toEqual([]);

    now = Date.parse("2026-11-20T10:14:00.001Z");
    expect(await ingestUpload(deps, objectCreated(job, "s3-a"), { logger })).toMatchObject({ status: "checking", why: "submitted" });
    expect(await ingestUpload(deps, objectCreated(job, "s3-a"), { logger, attempt: 2 })).toMatchObject({ status: "ready" });
    expect(submitted).toEqual(["gen-1"]);
    expect(await state.get(job, generationClaimName(1))).toMatchObject({ owner: "crashed" });
    expect(await state.get(job, generationClaimName(2))).toMatchObject({ eventId: "s3-a", claimedAt: "2026-11-20T10:14:00.001Z" });
  });
});
