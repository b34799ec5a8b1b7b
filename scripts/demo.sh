#!/usr/bin/env bash
# The README's main command: installs what is missing (Node 24, pnpm, FFmpeg, Chromium, PostgreSQL, the
# workspace's dependencies), then runs the whole pipeline offline on the sample photo (or on the
# image and options given) and prints where everything is.
#   ./scripts/demo.sh                      # the sample photo, default settings
#   ./scripts/demo.sh my.jpg --title "Hi"  # any `reelbridge run` options
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_system_tools
ensure_deps
cd "$REELBRIDGE_ROOT"
exec pnpm --silent reelbridge run "$@"
