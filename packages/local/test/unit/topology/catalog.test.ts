import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { subscriptions } from "@reelbridge/functions/topology";
import { compilePattern } from "../../../src/eventbridge";

/**
 * The events catalog (packages/events/README.md) says who consumes each event; the topology is
 * what decides it. Each catalog row's "consumers (ours)" must be exactly the subscriptions whose
 * pattern matches that event's v1 sample, through the matcher the local bus uses (EventBridge's
 * semantics): a new subscriber, or a pattern change, fails here until the catalog says so.
 */
const eventsDir = new URL("../../../../events/", import.meta.url);
const readme = readFileSync(new URL("README.md", eventsDir), "utf8");
const rows = readme
  .split("\n")
  .filter((l) => /^\| `[A-Za-z]+` \| reelbridge\./.test(l))
  .map((l) => l.split("|").map((c) => c.trim()))
  .map((cells) => ({ type: cells[1]!.replace(/`/g, ""), source: cells[2]!, consumers: cells[4]! }));

/** "db-writer" → "db writer", compared case-insensitively with the catalog's "DB writer". */
const label = (name: string) => name.replace(/-/g, " ").toLowerCase();
const subs = subscriptions({ mediaBucket: "reelbridge-local-media" }).map((s) => ({ name: s.name, matches: compilePattern(s.pattern) }));

describe("events catalog vs the topology", () => {
  it("lists every pipeline event", () => {
    expect(rows.map((r) => r.type).sort()).toEqual(
      ["JobCancelled", "NotificationDelivered", "NotificationFailed", "RenderCompleted", "RenderFailed", "RenderRequested", "RenderStarted", "SegmentsFailed", "SegmentsReady", "VideoBaseFailed", "VideoBaseReady", "VideoBaseStarted", "VideoBaseStopped"].sort(),
    );
  });

  it.each(rows.map((r) => [r.type, r] as const))("%s: the catalog names exactly the subscriptions that match its sample", (_t, row) => {
    const sample = JSON.parse(readFileSync(new URL(`samples/v1/${row.type}.json`, eventsDir), "utf8")) as { source: string };
    expect(sample.source).toBe(row.source);
    const matching = subs.filter((s) => s.matches.matches(sample)).map((s) => label(s.name)).sort();
    const listed = row.consumers.split(",").map((c) => c.trim().toLowerCase()).filter(Boolean).sort();
    expect(listed).toEqual(matching);
  });
});
