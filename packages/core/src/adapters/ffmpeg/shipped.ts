import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * The segmenter's FFmpeg: static x86-64 Linux builds shipped inside npm packages
 * (docs/decisions/0007-native-binaries-ship-as-tested.md). The same files run in the segmenter's
 * tests, in the local runtime, and in Lambda, where stacks/ copies them into the function's zip
 * (stacks/lib/native.ts) and sets FFMPEG_PATH/FFPROBE_PATH. Nothing is downloaded: the binary
 * is in the registry tarball.
 *
 * Only for code that runs from this workspace (the local runtime, tests, the build): a Lambda
 * bundle has no node_modules to resolve these from, and reads the environment instead.
 */
export const SHIPPED_FFMPEG = {
  ffmpeg: { package: "@ffmpeg-installer/linux-x64", file: "ffmpeg" },
  ffprobe: { package: "@ffprobe-installer/linux-x64", file: "ffprobe" },
} as const;

export interface FfmpegPaths {
  ffmpegPath: string;
  ffprobePath: string;
}

const require = createRequire(import.meta.url);
const locate = (b: { package: string; file: string }) => join(dirname(require.resolve(`${b.package}/package.json`)), b.file);

/** Absolute paths of the shipped binaries in this workspace's node_modules. */
export function shippedFfmpeg(): FfmpegPaths {
  return { ffmpegPath: locate(SHIPPED_FFMPEG.ffmpeg), ffprobePath: locate(SHIPPED_FFMPEG.ffprobe) };
}
