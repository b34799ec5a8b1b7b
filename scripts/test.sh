#!/usr/bin/env bash
# The README's test command: installs what is missing (Node 24, pnpm, FFmpeg, Chromium, PostgreSQL, the
# workspace's dependencies), then runs typecheck, lint and every test (unit, integration,
# end to end, browser).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_system_tools
ensure_deps
cd "$REELBRIDGE_ROOT"
pnpm typecheck
pnpm lint
# vitest's own summary, plus a plain closing line ("tests: N passed, N failed") for CI to read.
results="$REELBRIDGE_ROOT/test-results/vitest.json"
mkdir -p "$(dirname "$results")"
status=0
pnpm test --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# A file that failed to load has no failed test in it: it counts as one failure, and is named.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  const broken = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed"));
  for (const f of broken) console.log(`suite failed to run: ${f.name}: ${(f.message || "").split("\n")[0]}`);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests + broken.length} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" || true
exit "$status"
