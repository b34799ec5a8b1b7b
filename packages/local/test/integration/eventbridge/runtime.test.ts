import { spawn, spawnSync } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { afterEach, describe, expect, it } from "vitest";
import { createLocalBus } from "../../../src/eventbridge";
import type { EventBridgeEnvelope, LocalBus } from "../../../src/eventbridge";

const repoRoot = resolve(import.meta.dirname, "../../../../..");
const tsx = join(repoRoot, "node_modules/.bin/tsx");
const cli = join(repoRoot, "packages/local/src/cli.ts");
const fixture = join(import.meta.dirname, "fixtures/runtime.ts");

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "rb-int-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
function reelbridge(args: string[], opts: { input?: string; dataDir?: string } = {}) {
  const r = spawnSync(tsx, [cli, ...args], { input: opts.input ?? "", encoding: "utf8", env: { ...process.env, ...(opts.dataDir ? { REELBRIDGE_DATA_DIR: opts.dataDir } : {}) } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function startRuntime(dataDir: string, mode: "hang" | "fail" | "ok"): Promise<{ child: ChildProcessWithoutNullStreams; lines: string[] }> {
  const child = spawn(tsx, [fixture, dataDir, mode]);
  cleanups.push(() => { if (child.exitCode === null) child.kill("SIGKILL"); });
  const lines: string[] = [];
  return new Promise((ok, fail) => {
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        if (l.includes('"url"')) ok({ child, lines });
      }
    });
    child.on("exit", (code) => fail(new Error(`runtime exited ${code}`)));
  });
}
const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("HTTP endpoint speaks AWS JSON 1.1", () => {
  it("the real EventBridgeClient can PutEvents to it, with per-entry failures", async () => {
    const got: EventBridgeEnvelope[] = [];
    const bus: LocalBus = createLocalBus({
      dataDir: tmp(), buses: ["default", "reelbridge-local"], account: "111122223333", region: "eu-west-1", log: () => {},
      subscriptions: [{ name: "s", busName: "reelbridge-local", pattern: { "detail-type": ["VideoBaseReady"] }, delivery: { kind: "direct", retry: { maximumRetryAttempts: 1, maximumEventAgeSeconds: 60 }, asyncRetryAttempts: 0 }, invoke: async (e) => void got.push(...e) }],
    });
    cleanups.push(() => bus.close());
    const { url } = await bus.listen();
    const client = new EventBridgeClient({ endpoint: url, region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    cleanups.push(() => client.destroy());
    const res = await client.send(new PutEventsCommand({ Entries: [
      { Source: "reelbridge.ltx", DetailType: "VideoBaseReady", Detail: JSON.stringify({ jobId: "j1" }), EventBusName: "reelbridge-local", Time: new Date("2026-11-20T10:00:00Z"), Resources: ["arn:aws:s3:::b"] },
      { Source: "reelbridge.ltx", DetailType: "VideoBaseReady", Detail: "{oops", EventBusName: "reelbridge-local" },
    ] }));
    await bus.onIdle();
    expect(res.FailedEntryCount).toBe(1);
    expect(res.Entries?.[0]?.EventId).toBe(got[0]?.id);
    expect(res.Entries?.[1]).toMatchObject({ ErrorCode: "MalformedDetail" });
    expect(got[0]).toMatchObject({ source: "reelbridge.ltx", time: "2026-11-20T10:00:00Z", account: "111122223333", region: "eu-west-1", resources: ["arn:aws:s3:::b"], detail: { jobId: "j1" } });
    // A request AWS rejects as a whole surfaces as the SDK's typed exception.
    await expect(client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => ({ Source: "a", DetailType: "b", Detail: "{}" })) }))).rejects.toMatchObject({ name: "ValidationException" });
  });
});

describe("reelbridge CLI against a running runtime", () => {
  it("events put, dlq list, dlq redrive and events replay", async () => {
    const dataDir = tmp();
    const { child, lines } = await startRuntime(dataDir, "fail");
    const entries = JSON.stringify([{ Source: "reelbridge.test", DetailType: "Ping", Detail: "{\"n\":1}", EventBusName: "reelbridge-local" }, { Source: "reelbridge.test", DetailType: "Ping" }]);
    const put = reelbridge(["events", "put", "--entries", entries, "--data-dir", dataDir]);
    expect(put.code, put.stderr).toBe(0);
    const res = JSON.parse(put.stdout) as { FailedEntryCount: number; Entries: Array<{ EventId?: string; ErrorCode?: string }> };
    expect(res.FailedEntryCount).toBe(1);
    expect(res.Entries[1]!.ErrorCode).toBe("InvalidArgument");
    const id = res.Entries[0]!.EventId!;
    // The handler always fails: 1 + asyncRetryAttempts(1) invocations, then the DLQ.
    await waitFor(() => lines.filter((l) => l.includes(id)).length === 2);
    await waitFor(() => reelbridge(["dlq", "list"], { dataDir }).stdout.includes(id));
    const listed = JSON.parse(reelbridge(["dlq", "list"], { dataDir }).stdout.trim()) as { subscription: string; attempts: number; lastError: string; eventId: string };
    expect(listed).toMatchObject({ subscription: "notifier", attempts: 2, lastError: "Error: handler down", eventId: id });

    const redrive = reelbridge(["dlq", "redrive", "--subscription", "notifier"], { dataDir });
    expect(JSON.parse(redrive.stdout)).toEqual({ redriven: 1, via: "runtime" });
    await waitFor(() => lines.filter((l) => l.includes(id)).length === 4);

    const replay = reelbridge(["events", "replay", "--from", "2000-01-01T00:00:00Z", "--event-pattern", '{"detail-type":["Ping"]}'], { dataDir });
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual({ replayed: 1 });
    await waitFor(() => lines.filter((l) => l.includes(id)).length >= 5);
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    expect(reelbridge(["events", "put", "--entries", entries], { dataDir }).code).toBe(1);
  });

  it("dlq redrive without a runtime moves dead letters to the journal; the next start delivers them", async () => {
    const dataDir = tmp();
    const first = await startRuntime(dataDir, "fail");
    reelbridge(["events", "put", "--entries", JSON.stringify([{ Source: "reelbridge.test", DetailType: "Ping", Detail: "{}", EventBusName: "reelbridge-local" }])], { dataDir });
    await waitFor(() => reelbridge(["dlq", "list"], { dataDir }).stdout.trim() !== "");
    first.child.kill("SIGTERM");
    await new Promise((r) => first.child.once("exit", r));
    expect(JSON.parse(reelbridge(["dlq", "redrive"], { dataDir }).stdout)).toMatchObject({ redriven: 1, via: "journal" });
    expect(reelbridge(["dlq", "list"], { dataDir }).stdout).toBe("");
    const second = await startRuntime(dataDir, "ok");
    await waitFor(() => second.lines.some((l) => l.includes("invoked")));
  });
});

describe("crash safety", () => {
  it("an event in flight when the process is killed -9 is delivered after restart", async () => {
    const dataDir = tmp();
    const first = await startRuntime(dataDir, "hang");
    const put = reelbridge(["events", "put", "--entries", JSON.stringify([{ Source: "reelbridge.test", DetailType: "Ping", Detail: "{}", EventBusName: "reelbridge-local" }])], { dataDir });
    const id = (JSON.parse(put.stdout) as { Entries: Array<{ EventId: string }> }).Entries[0]!.EventId;
    await waitFor(() => first.lines.some((l) => l.includes(id)));
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    const second = await startRuntime(dataDir, "ok");
    await waitFor(() => second.lines.some((l) => l.includes(id)));
  });
});

describe("events test-pattern CLI", () => {
  const event = JSON.stringify({ id: "1", account: "111122223333", source: "aws.s3", time: "2026-11-20T10:00:00Z", region: "eu-west-1", resources: [], "detail-type": "Object Created", detail: { object: { key: "uploads/j/source" } } });
  it("prints {\"Result\": …} and exits 0; invalid pattern or event exits 2 with the error on stderr", () => {
    const dir = tmp();
    const patternFile = join(dir, "p.json");
    spawnSync("sh", ["-c", `printf '%s' '{"source":["aws.s3"],"detail":{"object":{"key":[{"prefix":"uploads/"}]}}}' > ${patternFile}`]);
    const ok = reelbridge(["events", "test-pattern", "--event-pattern", `file://${patternFile}`, "--event", event]);
    expect([ok.code, ok.stdout]).toEqual([0, '{"Result": true}\n']);
    const no = reelbridge(["events", "test-pattern", "--event-pattern", '{"source":["aws.ec2"]}', "--event", event]);
    expect([no.code, no.stdout]).toEqual([0, '{"Result": false}\n']);
    const bad = reelbridge(["events", "test-pattern", "--event-pattern", '{"detail":{"size":[{"numeric":[">",5,"<",1]}]}}', "--event", event]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("InvalidEventPatternException");
    expect(bad.stderr).toContain("detail.size.numeric");
    const badEvent = reelbridge(["events", "test-pattern", "--event-pattern", '{"source":["aws.s3"]}', "--event", '{"source":"aws.s3"}']);
    expect(badEvent.code).toBe(2);
    expect(reelbridge(["nope"]).code).toBe(2);
  });

  it("--batch answers thousands of lines in order, without the envelope check", () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) {
      lines.push(i % 100 === 99
        ? JSON.stringify({ pattern: { n: "bad" }, event: { n: i } })
        : JSON.stringify({ pattern: { n: [{ numeric: ["<", 2500] }] }, event: { n: i } }));
    }
    const t0 = Date.now();
    const r = reelbridge(["events", "test-pattern", "--batch"], { input: lines.join("\n") + "\n" });
    const elapsed = Date.now() - t0;
    const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { result?: boolean; error?: string });
    expect(out).toHaveLength(5000);
    expect(out[0]).toEqual({ result: true });
    expect(out[2600]).toEqual({ result: false });
    expect(out[99]!.error).toContain("Event pattern is not valid");
    expect(elapsed).toBeLessThan(20_000); // generous: includes tsx start-up; the bench measures speed
  });
});
