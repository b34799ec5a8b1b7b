import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/**
 * The directory of the events' versioned samples (packages/events/samples/v1/), found through
 * @reelbridge/events' exports, for tests that read them all. A single sample is better imported
 * by name: `import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json"`
 * (clone it before mutating).
 */
export const samplesDir: URL = new URL("./", pathToFileURL(createRequire(import.meta.url).resolve("@reelbridge/events/samples/v1/VideoBaseReady.json")));
