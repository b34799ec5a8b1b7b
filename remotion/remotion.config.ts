// Settings for the Remotion CLI and Studio when run from remotion/ (pnpm --filter @reelbridge/remotion studio).
// The local renderer (packages/local/src/render) sets the same options in code.
import { Config } from "@remotion/cli/config";

Config.setEntryPoint("src/index.ts");
// The system Chromium: Remotion must never download a browser.
Config.setBrowserExecutable("/usr/bin/chromium");
// Debian's Chromium has no old headless mode.
Config.setChromeMode("chrome-for-testing");
Config.setShouldOpenBrowser(false);
Config.setVideoImageFormat("jpeg");
Config.setCodec("h264");
Config.setAudioCodec("aac");
// A keyframe every 2 s at 30 fps, so the segmenter can cut without re-encoding.
Config.setGopSize(60);
