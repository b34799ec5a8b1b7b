/**
 * Pattern evaluations per second (one core, compiled once), for a typical pipeline rule
 * (source + detail-type + one nested prefix) and a complex one (anything-but, numeric range, $or).
 * Prints one JSON line per figure.
 */
import { compilePattern } from "@reelbridge/local/eventbridge/index";

const event = {
  version: "0", id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Object Created", source: "aws.s3",
  account: "111122223333", time: "2026-11-20T10:00:00Z", region: "eu-west-1", resources: ["arn:aws:s3:::media"],
  detail: {
    version: "0", bucket: { name: "media" },
    object: { key: "uploads/01JD0000000000000000000000/source", size: 2_400_000, etag: "b1946ac92492d2347c6235b4d2611184" },
    "request-id": "N4N7GDK58NMKJ12R", requester: "111122223333", "source-ip-address": "10.0.0.12", reason: "PostObject",
  },
};

const rules = {
  typical: { source: ["aws.s3"], "detail-type": ["Object Created"], detail: { object: { key: [{ prefix: "uploads/" }] } } },
  complex: {
    source: [{ "anything-but": ["aws.ec2", "aws.lambda"] }],
    detail: {
      reason: [{ "anything-but": { prefix: "Copy" } }],
      object: { size: [{ numeric: [">", 0, "<=", 10_000_000] }] },
      $or: [{ bucket: { name: ["archive"] } }, { "source-ip-address": [{ cidr: "10.0.0.0/8" }] }],
    },
  },
};

function measure(name: string, pattern: object): void {
  const compiled = compilePattern(pattern);
  if (!compiled.matches(event)) throw new Error(`${name} rule must match the bench event`);
  // Warm up, then time batches for ~1 s.
  for (let i = 0; i < 200_000; i++) compiled.matches(event);
  let n = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1e9) {
    for (let i = 0; i < 100_000; i++) compiled.matches(event);
    n += 100_000;
    elapsed = Number(process.hrtime.bigint() - t0);
  }
  console.log(JSON.stringify({ name: `eventbridge.pattern.${name}.evaluations_per_second`, value: Math.round(n / (elapsed / 1e9)), unit: "evaluations/s" }));
}

measure("typical", rules.typical);
measure("complex", rules.complex);
