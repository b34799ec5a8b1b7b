import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MediaServer } from "../../../src/render/media-server";
import { MediaNotAllowedError, startMediaServer } from "../../../src/render/media-server";

let dir: string;
let server: MediaServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "reelbridge-media-"));
  await mkdir(path.join(dir, "jobs"));
  await writeFile(path.join(dir, "jobs", "base.mp4"), Buffer.from("0123456789"));
  await writeFile(path.join(dir, "secret.txt"), "secret");
  server = await startMediaServer({ allowedRoots: [path.join(dir, "jobs")] });
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("media server", () => {
  it("serves a registered file with its type and byte ranges", async () => {
    const url = await server.register(path.join(dir, "jobs", "base.mp4"));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/m\/[0-9a-f]{32}\/base\.mp4$/);
    const full = await fetch(url);
    expect(full.headers.get("content-type")).toBe("video/mp4");
    expect(await full.text()).toBe("0123456789");
    const part = await fetch(url, { headers: { Range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(await part.text()).toBe("2345");
    const tail = await fetch(url, { headers: { Range: "bytes=-3" } });
    expect(await tail.text()).toBe("789");
    expect((await fetch(url, { headers: { Range: "bytes=20-" } })).status).toBe(416);
  });

  it("serves nothing else: no path mapping, unregistered files and other directories stay out", async () => {
    const url = await server.register(path.join(dir, "jobs", "base.mp4"));
    const origin = new URL(url).origin;
    expect((await fetch(`${origin}/secret.txt`)).status).toBe(404);
    expect((await fetch(`${origin}/m/../secret.txt`)).status).toBe(404);
    await expect(server.register(path.join(dir, "secret.txt"))).rejects.toBeInstanceOf(MediaNotAllowedError);
    await expect(server.register(path.join(dir, "jobs", "..", "secret.txt"))).rejects.toBeInstanceOf(MediaNotAllowedError);
    await expect(server.register(path.join(dir, "jobs", "missing.mp4"))).rejects.toBeInstanceOf(MediaNotAllowedError);
    server.unregister(url);
    server.unregister(url);
    expect((await fetch(url)).status).toBe(404);
  });
});
