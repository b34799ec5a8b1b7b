import { execFile, spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ToolNotFoundError } from "@reelbridge/core/media/errors";
import { permanentReason } from "@reelbridge/core";
import { printSummary, SAMPLE_PHOTO } from "../../../src/commands/run";
import type { RunResult } from "../../../src/commands/run";
import { captureLambdaLogs } from "../../../src/runtime/logs";
import { startRuntime } from "../../../src/runtime/runtime";
import type { Runtime } from "../../../src/runtime/runtime";

/** Issue #11, items 8–11 ("Operating it"), as a user meets them: through the CLI and the data dir. */

const run = promisify(execFile);
const root = new URL("../../../../../", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "reelbridge-operating-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function reelbridge(args: string[], env: NodeJS.ProcessEnv = {}, wrap?: (cmd: string[]) => string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = wrap ? wrap(["pnpm", "--silent", "reelbridge", ...args]) : ["pnpm", "--silent", "reelbridge", ...args];
  try {
    const { stdout, stderr } = await run(cmd[0]!, cmd.slice(1), { cwd: root, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const notAnImage = join(scratch, "not-a-photo.jpg");
writeFileSync(notAnImage, "this is not an image, whatever its name says\n");

/** Submits a file through the upload API and the presigned POST, as a browser does. */
async function submit(rt: Runtime, file: string, contentType = "image/jpeg"): Promise<string> {
  const res = await fetch(`${rt.apiBase}/uploads`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title: "Operating", subtitle: "", cameraPrompt: "pan left", music: "pulse", aspect: "16:9", durationSeconds: 2, contentType }),
  });
  expect(res.status).toBe(201);
  const { jobId, upload } = (await res.json()) as { jobId: string; upload: { url: string; fields: Record<string, string> } };
  const form = new FormData();
  for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
  form.append("file", new Blob([readFileSync(file)], { type: contentType }), "photo.jpg");
  expect((await fetch(upload.url, { method: "POST", body: form })).status).toBe(204);
  return jobId;
}

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const readLog = (dataDir: string) =>
  readFileSync(join(dataDir, "logs", "runtime.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => ({ text: l, json: JSON.parse(l) as Record<string, unknown> }));

describe("item 8: one log shape, handler WARN/ERROR lines captured, and `reelbridge job`", () => {
  const dataDir = join(scratch, "logs-and-job");

  it("puts the handlers' WARN lines and the bus's lines in runtime.jsonl in one shape, jobId on each; `job` shows the job stopped and running", async () => {
    // A journal cut mid-line by a crash (item 9): recovered, and said so at start.
    mkdirSync(join(dataDir, "bus"), { recursive: true });
    writeFileSync(join(dataDir, "bus", "journal.jsonl"), '{"t":"accept","rid":"torn-1","at":1,"bus":"local-reelbridge","subs":["notifier"],"event":{"version":"0","id":"torn-1","detail-type":"RenderFai');

    const r = await reelbridge(["run", "--data-dir", dataDir, notAnImage]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/failed: InvalidImage/);
    expect(r.stdout).toMatch(/warning: bus journal .*journal\.jsonl had 1 torn line\(s\), dropped: line 1 \(142 bytes, an accept record torn-1\); recovered 0 record\(s\), 0 delivery\(ies\) still owed/);
    const jobId = /job ([0-9A-Z]{26})/.exec(r.stdout)![1]!;

    const lines = readLog(dataDir);
    for (const { json } of lines) {
      expect(["DEBUG", "INFO", "WARN", "ERROR"]).toContain(json.level);
      expect(typeof json.message).toBe("string");
      expect(typeof json.timestamp).toBe("string");
      expect(typeof json.service).toBe("string");
      expect(json).not.toHaveProperty("msg");
    }
    // Every line that names the job carries its jobId.
    const concerning = lines.filter((l) => l.text.includes(jobId));
    expect(concerning.length).toBeGreaterThan(3);
    for (const { json } of concerning) expect(json.jobId, JSON.stringify(json)).toBe(jobId);
    // The LTX step's WARN (Powertools writes it to stderr) reached the file, with the jobId.
    expect(lines.map((l) => l.json)).toContainEqual(expect.objectContaining({ level: "WARN", service: "reelbridge-ltx-step", message: "upload failed permanently", jobId, code: "InvalidImage" }));
    expect(lines.map((l) => l.json)).toContainEqual(expect.objectContaining({ level: "WARN", service: "reelbridge-local-bus", message: expect.stringMatching(/^bus journal/) }));

    // Stopped: read from the data dir's files.
    const stopped = await reelbridge(["job", jobId, "--data-dir", dataDir]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(new RegExp(`^job ${jobId}: failed \\(from the data dir; the runtime is stopped\\)`));
    expect(stopped.stdout).toMatch(/failed: InvalidImage \(VideoBaseFailed\) — /);
    expect(stopped.stdout).toMatch(/timeline:\n.*VideoBaseFailed/);
    expect(stopped.stdout).toMatch(/bus events:\n.*Object Created\s+aws\.s3/);
    expect(stopped.stdout).toMatch(/WARN {2}reelbridge-ltx-step: upload failed permanently/);

    // Running: through the runtime (DynamoDB's files are locked by it).
    const rt = await startRuntime({ dataDir });
    try {
      const running = await reelbridge(["job", jobId, "--data-dir", dataDir, "--json"]);
      expect(running.code, running.stderr).toBe(0);
      const report = JSON.parse(running.stdout) as { source: string; status: string; failure: { code: string }; timeline: unknown[]; logs: Array<{ jobId: string }> };
      expect(report).toMatchObject({ source: "runtime", status: "failed", failure: { code: "InvalidImage" } });
      expect(report.timeline.length).toBeGreaterThan(0);
      expect(report.logs.length).toBe(concerning.length);
    } finally {
      await rt.close();
    }

    const unknown = await reelbridge(["job", "01JD7X8Q2RZ4V6N3K5M9P1T0ZZ", "--data-dir", dataDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no job 01JD7X8Q2RZ4V6N3K5M9P1T0ZZ in /);
  });
});

describe("item 9: environment faults are reported as what they are", () => {
  it("refuses to start when FFmpeg is missing, naming the binary and where it looked; no job is started", async () => {
    const dataDir = join(scratch, "no-ffmpeg");
    const r = await reelbridge(["run", "--data-dir", dataDir, SAMPLE_PHOTO], { FFMPEG_PATH: "/nonexistent/bin/ffmpeg" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('reelbridge run failed: the local runtime cannot start: the offline generator (FFmpeg image-to-video) needs ffmpeg not found: "/nonexistent/bin/ffmpeg" does not exist or is not executable (from FFMPEG_PATH); install ffmpeg or point FFMPEG_PATH at it. No job was started');
    expect(r.stdout + r.stderr).not.toMatch(/Offline generation failed/);
    expect(existsSync(join(dataDir, "bus", "archive.jsonl")) ? readFileSync(join(dataDir, "bus", "archive.jsonl"), "utf8") : "").toBe("");
  });

  it("a binary that vanishes while a job runs is retried, not a permanent failure: the job goes on once it is back", async () => {
    const dataDir = join(scratch, "ffmpeg-vanishes");
    const link = join(scratch, "bin", "ffmpeg");
    mkdirSync(join(scratch, "bin"), { recursive: true });
    const systemFfmpeg = spawnSync("sh", ["-c", "command -v ffmpeg"], { encoding: "utf8" }).stdout.trim();
    symlinkSync(systemFfmpeg, link);
    const before = process.env.FFMPEG_PATH;
    process.env.FFMPEG_PATH = link;
    const restoreLogs = captureLambdaLogs(join(dataDir, "logs", "runtime.jsonl"));
    const rt = await startRuntime({ dataDir, renderScale: 0.25, retryBaseMs: 20 });
    try {
      const failures: number[] = [];
      const types: string[] = [];
      rt.bus.on("accepted", ({ event }) => types.push(event["detail-type"]));
      rt.bus.on("failed", ({ subscription, attempts, rescheduled }) => {
        // The LTX step hands its message back for each look at the generation: not a failure.
        if (subscription !== "ltx-step" || rescheduled) return;
        failures.push(attempts);
        // FFmpeg is back before the retry.
        if (!existsSync(link)) symlinkSync(systemFfmpeg, link);
      });
      unlinkSync(link);
      const jobId = await submit(rt, SAMPLE_PHOTO);
      await until("the base clip", () => types.includes("VideoBaseReady"));
      // The offline generator's FFmpeg runs after the submit: the first look (receive 2) finds it failed.
      expect(failures).toEqual([2]);
      expect(types).not.toContain("VideoBaseFailed");
      expect((await rt.jobs.get(jobId))?.status).not.toBe("failed");
      // The log says what happened, in the job's lines.
      expect(readLog(dataDir).map((l) => l.json)).toContainEqual(expect.objectContaining({
        level: "WARN", service: "reelbridge-ltx-step", jobId, message: "transient failure, will be retried",
        error: expect.objectContaining({ name: "ToolNotFoundError", code: "ToolNotFound", retryable: true, message: `ffmpeg not found: "${link}" does not exist or is not executable (from FFMPEG_PATH); install ffmpeg or point FFMPEG_PATH at it` }),
      }));
    } finally {
      await rt.close();
      restoreLogs();
      if (before === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = before;
    }
  });

  it("the error class decides: a missing binary is retryable (no FailureReason), unlike a bad image", () => {
    const err = new ToolNotFoundError("ffmpeg", "ffmpeg", { lookedIn: ["/usr/local/bin", "/usr/bin"] });
    expect(err).toMatchObject({ code: "ToolNotFound", retryable: true, message: 'ffmpeg not found: "ffmpeg" is not on PATH (looked in /usr/local/bin, /usr/bin); install ffmpeg' });
    expect(permanentReason(err)).toBeUndefined();
  });

  it("refuses a read-only data dir at start with a message naming it, instead of a 'Database is closed' stack", async () => {
    const dataDir = join(scratch, "read-only");
    mkdirSync(dataDir, { recursive: true });
    // Root writes through permission bits, so as root the directory is made read-only by a
    // read-only bind mount in a private mount namespace; otherwise by its mode.
    const asRoot = process.getuid?.() === 0;
    const canUnshare = asRoot && spawnSync("unshare", ["-m", "sh", "-c", `mount --bind -o ro '${dataDir}' '${dataDir}'`]).status === 0;
    if (!asRoot) chmodSync(dataDir, 0o500);
    const wrap = canUnshare ? (cmd: string[]) => ["unshare", "-m", "sh", "-c", `mount --bind -o ro "$0" "$0" && exec "$@"`, dataDir, ...cmd] : undefined;
    expect(asRoot ? canUnshare : true, "as root this needs unshare -m (the injected check is in test/unit/runtime/data-dir.test.ts)").toBe(true);
    const r = await reelbridge(["run", "--data-dir", dataDir, notAnImage], {}, wrap);
    chmodSync(dataDir, 0o700);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`reelbridge run failed: the data directory ${dataDir} is not writable (${asRoot ? "read-only file system" : "permission denied"}). reelbridge keeps its database`);
    expect(r.stderr).not.toMatch(/Database is closed|\n\s+at /);
  });
});

describe("item 10: a restart keeps URLs and leaves no scratch", () => {
  it("keeps the webhook receiver's port, and removes a crashed run's scratch folders from tmp/ at start", async () => {
    const dataDir = join(scratch, "restart");
    const first = await startRuntime({ dataDir, logSink: () => undefined });
    const receiverUrl = first.receiver.url;
    await first.close();
    mkdirSync(join(dataDir, "tmp", "generator", "01JD7X8Q2RZ4V6N3K5M9P1T0AB-x1"), { recursive: true });
    writeFileSync(join(dataDir, "tmp", "generator", "01JD7X8Q2RZ4V6N3K5M9P1T0AB-x1", "input.jpg"), "half");
    mkdirSync(join(dataDir, "tmp", "segmenter", "segment-01JD7X8Q2RZ4V6N3K5M9P1T0AB-y2", "out"), { recursive: true });
    const second = await startRuntime({ dataDir, logSink: () => undefined });
    try {
      expect(second.receiver.url).toBe(receiverUrl);
      expect(JSON.parse(readFileSync(join(dataDir, "ports.json"), "utf8"))).toMatchObject({ receiver: receiverUrl });
      expect(readdirSync(join(dataDir, "tmp", "generator"))).toEqual([]);
      expect(readdirSync(join(dataDir, "tmp", "segmenter"))).toEqual([]);
      expect(second.startupNotices).toContainEqual({ level: "INFO", message: expect.stringMatching(/^removed 2 scratch folder\(s\) a previous run left in .*tmp: /) });
    } finally {
      await second.close();
    }
  });
});

describe("item 11: the data dir is private, and the play hint is a shell word", () => {
  it("leaves every folder 0700 and every file 0600 after a job (blobs, logs with the deliveries), fixing an old 0755/0644 dir", async () => {
    const dataDir = join(scratch, "private");
    mkdirSync(join(dataDir, "logs"), { recursive: true, mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, "logs", "webhook-deliveries.jsonl"), "", { mode: 0o644 });
    const rt = await startRuntime({ dataDir });
    try {
      const jobId = await submit(rt, notAnImage);
      await until("the failure webhook", () => rt.receiver.deliveries.some((d) => d.type === "video.failed" && JSON.stringify(d.payload).includes(jobId)));
      await rt.bus.onIdle();
    } finally {
      await rt.close();
    }
    expect(readFileSync(join(dataDir, "logs", "webhook-deliveries.jsonl"), "utf8")).toMatch(/video\.failed/);
    const loose: string[] = [];
    let seen = 0;
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        const st = lstatSync(p);
        if (st.isSymbolicLink()) continue;
        seen++;
        if (st.isDirectory()) {
          if ((st.mode & 0o777) !== 0o700) loose.push(`${p} ${(st.mode & 0o777).toString(8)}`);
          walk(p);
        } else if (st.mode & 0o077) loose.push(`${p} ${(st.mode & 0o777).toString(8)}`);
      }
    };
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    walk(dataDir);
    expect(seen).toBeGreaterThan(20);
    expect(loose).toEqual([]);
  });

  it("quotes the ffplay path for a POSIX shell: a path with ', spaces and $ comes out of sh intact", () => {
    const finalVideo = join(scratch, "it's a $HOME dir", "jobs", "final `x` \\ $(id).mp4");
    const result: RunResult = { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AB", status: "completed", steps: [], outputs: { finalVideo }, deliveries: [], dataDir: scratch, logs: join(scratch, "logs") };
    const lines: string[] = [];
    printSummary(result, (l) => lines.push(l));
    const hint = lines.find((l) => l.includes("ffplay "))!;
    const word = /ffplay (.*) {3}\(or open/.exec(hint)![1]!;
    const echoed = spawnSync("sh", ["-c", `printf '%s' ${word}`], { encoding: "utf8" });
    expect(echoed.status).toBe(0);
    expect(echoed.stdout).toBe(finalVideo);
  });
});
