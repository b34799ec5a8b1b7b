# syntax=docker/dockerfile:1.7
#
# The segmenter Lambda as a container image function (docs/ffmpeg-lambda.md).
#
# Why an image and not a layer: FFmpeg with its shared libraries is ~100 MB, over half of a
# layer's 250 MB unzipped limit, and the same Debian package as the local runtime gives the
# same FFmpeg major version (5.1, Debian bookworm) in Lambda as on developers' machines and in
# CI. Why not the AWS Node.js base image: it is Amazon Linux 2023, which packages no FFmpeg.
# So: Debian bookworm + Node 24 + the Lambda runtime interface client (aws-lambda-ric).
#
# Build context: the repository root.
#   docker build -f packages/functions/segmenter.Dockerfile -t reelbridge-segmenter .
# The ignore file next to this Dockerfile (segmenter.Dockerfile.dockerignore) keeps
# node_modules, .sst and media out of the context.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- 1. bundle the handler ----------------------------------------------------------------
FROM ${NODE_IMAGE} AS bundle
WORKDIR /src
RUN npm install --global --no-audit --no-fund --loglevel=error pnpm@10.34.8
# Manifests first, so the dependency layer is cached until a manifest or the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/events/package.json packages/events/
COPY packages/core/package.json packages/core/
COPY packages/functions/package.json packages/functions/
COPY remotion/package.json remotion/
RUN pnpm install --frozen-lockfile --filter "@reelbridge/functions..."
COPY tsconfig.json ./
COPY packages/events packages/events
COPY packages/core/src packages/core/src
COPY packages/functions/src packages/functions/src
# One ESM file with every dependency, the AWS SDK included (a custom image has no SDK).
# sst is external: env.ts imports it lazily for secrets, which the segmenter never reads.
# The banner gives CommonJS dependencies a `require` inside the ES module.
RUN npx --yes esbuild@0.27.7 packages/functions/src/segmenter.ts \
      --bundle --platform=node --target=node24 --format=esm \
      --main-fields=module,main \
      --external:sst --external:sst/* \
      --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
      --sourcemap=linked --legal-comments=none \
      --outfile=/out/segmenter.mjs

# ---- 2. the runtime interface client (native addon: needs a compiler once) ----------------
FROM ${NODE_IMAGE} AS ric
RUN apt-get update \
 && apt-get install --yes --no-install-recommends g++ make cmake unzip autoconf automake libtool patch xz-utils python3 libcurl4-openssl-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /ric
RUN npm init --yes >/dev/null \
 && npm install --no-audit --no-fund --loglevel=error aws-lambda-ric@4.0.2

# ---- 3. the function image ------------------------------------------------------------------
FROM ${NODE_IMAGE}
# Debian bookworm's FFmpeg: 5.1.x, the version the local runtime uses. The check fails the
# build if the base image ever moves to a release with another FFmpeg major.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends ffmpeg libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && ffmpeg -hide_banner -version | head -n 1 | grep -Eq '^ffmpeg version (n)?5\.1' \
 || { echo "expected FFmpeg 5.1 (Debian bookworm), got: $(ffmpeg -version | head -n 1)" >&2; exit 1; }

ENV LAMBDA_TASK_ROOT=/var/task \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe \
    TMPDIR=/tmp \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /var/task
COPY --from=ric /ric/node_modules ./node_modules
COPY --from=bundle /out/ ./
# Fail the build, not the first invocation, if the bundle cannot load.
RUN node -e "import('/var/task/segmenter.mjs').then((m) => { if (typeof m.handler !== 'function') throw new Error('no handler export'); })"

# Lambda runs the image as a non-root user with a read-only file system except /tmp.
ENTRYPOINT ["/var/task/node_modules/.bin/aws-lambda-ric"]
CMD ["segmenter.handler"]
