import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The live preview plays the Remotion composition in the page, and the composition loads its
// fonts and music with staticFile(), i.e. from "/fonts/…" and "/music/…": the Remotion project's
// public/ folder is the page's public folder, so the page serves (and the site deploys) the very
// files the renderer bundles. Nothing is fetched from a font service.
export default defineConfig({
  publicDir: fileURLToPath(new URL("../../remotion/public", import.meta.url)),
  build: {
    // The CJK and emoji faces are large on purpose (they load only when a text needs them).
    chunkSizeWarningLimit: 1024,
  },
});
