import { defineConfig } from "vitest/config";

// Two projects (STYLE.md): `unit` needs no network or external process; `integration` talks to
// real local processes or builds (SST's deploy build of stacks/, the DynamoDB emulator, the upload endpoint, FFmpeg, Chromium, local HTTP
// servers that speak the outside services' contracts).
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/test/unit/**/*.test.ts", "remotion/test/unit/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          // stacks/test runs SST's real build (esbuild, the web client's build): one at a time.
          include: ["packages/*/test/integration/**/*.test.ts", "remotion/test/integration/**/*.test.ts", "stacks/test/**/*.test.ts", "test/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
    allowOnly: false,
    passWithNoTests: false,
  },
});
