#!/usr/bin/env bash
# The README's test command: installs what is missing (Node 24, pnpm, FFmpeg, Chromium, the
# workspace's dependencies), then runs typecheck, lint and every test (unit, integration,
# end to end, browser).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_system_tools
ensure_deps
cd "$REELBRIDGE_ROOT"
pnpm typecheck
pnpm lint
pnpm test "$@"
