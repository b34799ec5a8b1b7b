import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { startRuntime } from "../../../src/runtime/runtime";

const run = promisify(execFile);
const root = new URL("../../../../../", import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-cli-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const cli = async (...args: string[]) => (await run("pnpm", ["--silent", "reelbridge", ...args, "--data-dir", dataDir], { cwd: root })).stdout;

// The README tells people to run these against `reelbridge dev`: they must find the runtime
// that `startRuntime` (what `dev` and `run` use) wrote into the data dir.
describe("the CLI against a running embedded runtime", () => {
  it("puts an event on its bus (delivered to the topology's subscribers) and reads its DLQ", async () => {
    const rt = await startRuntime({ dataDir });
    try {
      const sample = JSON.parse(readFileSync(join(root, "packages/events/samples/v1/RenderFailed.json"), "utf8")) as { source: string; "detail-type": string; detail: { data: { job: { callbackUrl?: string } } } };
      // Notifications go to the runtime's own receiver only: no callback outside this machine.
      delete sample.detail.data.job.callbackUrl;
      const delivered: string[] = [];
      rt.bus.on("delivered", ({ subscription }) => delivered.push(subscription));
      const entries = JSON.stringify([{ Source: sample.source, DetailType: sample["detail-type"], Detail: JSON.stringify(sample.detail), EventBusName: "local-reelbridge" }]);
      const put = JSON.parse(await cli("events", "put", "--entries", entries)) as { FailedEntryCount: number; Entries: Array<{ EventId?: string }> };
      expect(put.FailedEntryCount).toBe(0);
      expect(put.Entries[0]!.EventId).toBeTruthy();
      await rt.bus.onIdle();
      // RenderFailed goes to the DB writer and the notifier. The sample's job was never started
      // by this pipeline, so both drop it (issue #11 item 3): no record, no webhook.
      expect([...new Set(delivered)].sort()).toEqual(["db-writer", "notifier"]);
      expect(rt.receiver.deliveries).toEqual([]);
      expect(await rt.jobs.get("01JD7X8Q2RZ4V6N3K5M9P1T0AB")).toBeUndefined();
      expect(await cli("dlq", "list")).not.toMatch(/RenderFailed/);
    } finally {
      await rt.close();
    }
  });
});
