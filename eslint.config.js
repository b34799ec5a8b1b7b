// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import path from "node:path";

const aws = { group: ["@aws-sdk/*", "aws-sdk", "aws-lambda", "sst", "sst/*", "@remotion/lambda", "@remotion/lambda/*"], message: "AWS belongs in adapters/aws, functions and stacks, not here." };
const sstNode = { group: ["sst/node", "sst/node/*"], message: "sst/node lookups throw without SST_APP and may call SSM at import time; read config in the functions' env module." };
const noLocal = { group: ["@reelbridge/local", "@reelbridge/local/*"], message: "Nothing depends on the local runtime." };
const noFunctions = { group: ["@reelbridge/functions", "@reelbridge/functions/*"], message: "core must not depend on functions (events <- core <- functions)." };
const noCore = { group: ["@reelbridge/core", "@reelbridge/core/*"], message: "events is the bottom of the graph: it imports zod only." };
// @reelbridge/testing depends on core and events; a package below it importing it (even from its
// tests) would be a dependency cycle (packages/testing/README.md).
const noTesting = { group: ["@reelbridge/testing", "@reelbridge/testing/*"], message: "@reelbridge/testing depends on core and events: importing it from here is a dependency cycle (packages/testing/README.md)." };
const testsOnly = { group: ["@reelbridge/testing", "@reelbridge/testing/*"], message: "Test doubles are for tests: import @reelbridge/testing from test files only." };
const coreTestSupport = { group: ["@reelbridge/core/test/*"], message: "Core's test doubles reach other packages through @reelbridge/testing." };

// A relative import that resolves outside the importing file's package (packages/<name>/ or
// remotion/) reaches around the boundary rules above: import the other package by name.
const packageRoot = (file) => {
  const m = /^(.*?[\\/](?:packages[\\/][^\\/]+|remotion))[\\/]/.exec(file);
  return m ? m[1] : undefined;
};
const boundaries = {
  rules: {
    "no-relative-outside-package": {
      meta: { type: "problem", schema: [], messages: { outside: "'{{source}}' leaves this package ({{root}}): import it by its package name." } },
      create(context) {
        const file = context.filename;
        const root = packageRoot(file);
        if (!root) return {};
        const check = (node) => {
          const source = node?.value;
          if (typeof source !== "string" || !source.startsWith(".")) return;
          const target = path.resolve(path.dirname(file), source);
          if (target !== root && !target.startsWith(root + path.sep)) {
            context.report({ node, messageId: "outside", data: { source, root: path.relative(import.meta.dirname, root) } });
          }
        };
        return {
          ImportDeclaration: (n) => check(n.source),
          ExportAllDeclaration: (n) => check(n.source),
          ExportNamedDeclaration: (n) => n.source && check(n.source),
          ImportExpression: (n) => n.source.type === "Literal" && check(n.source),
        };
      },
    },
    // Root-level code (test/, bench/, scripts/) reaches the packages by their names too.
    "no-relative-into-packages": {
      meta: { type: "problem", schema: [], messages: { into: "'{{source}}' reaches into {{target}}: import it by its package name (@reelbridge/…)." } },
      create(context) {
        const file = context.filename;
        const check = (node) => {
          const source = node?.value;
          if (typeof source !== "string" || !source.startsWith(".")) return;
          const target = path.relative(import.meta.dirname, path.resolve(path.dirname(file), source));
          if (/^(packages\/[^/]+|remotion)\//.test(target) && !target.includes("/node_modules/")) {
            context.report({ node, messageId: "into", data: { source, target: target.split("/").slice(0, target.startsWith("remotion") ? 1 : 2).join("/") } });
          }
        };
        return {
          ImportDeclaration: (n) => check(n.source),
          ExportAllDeclaration: (n) => check(n.source),
          ExportNamedDeclaration: (n) => n.source && check(n.source),
          ImportExpression: (n) => n.source.type === "Literal" && check(n.source),
        };
      },
    },
  },
};

export default tseslint.config(
  { ignores: ["**/node_modules/**", ".sst/**", ".tools/**", "infra.out/**", "**/dist/**", "**/dist-local/**", "cdk.out/**", ".reelbridge/**", "packages/events/schemas/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-syntax": ["error",
        { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name=/^(only|skip|todo)$/]", message: "No focused or skipped tests on main." }],
    },
  },
  // Import boundaries (STYLE.md: events <- core <- functions; local depends on them, nothing on
  // local; @reelbridge/testing sits on core and events and is imported by tests above core).
  // Tests are covered too: a test importing across a boundary is the same dependency.
  {
    files: ["packages/**", "remotion/**"],
    plugins: { boundaries },
    rules: { "boundaries/no-relative-outside-package": "error" },
  },
  {
    files: ["test/**", "bench/**", "scripts/**"],
    plugins: { boundaries },
    rules: { "boundaries/no-relative-into-packages": "error" },
  },
  {
    files: ["packages/events/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [aws, sstNode, noLocal, noFunctions, noCore, noTesting] }] },
  },
  {
    files: ["packages/core/**"],
    ignores: ["packages/core/src/adapters/aws/**", "packages/core/test/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [aws, sstNode, noLocal, noFunctions, noTesting] }] },
  },
  {
    // The AWS adapters, and core's tests (adapter tests mock the AWS SDK with aws-sdk-client-mock).
    files: ["packages/core/src/adapters/aws/**", "packages/core/test/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [sstNode, noLocal, noFunctions, noTesting] }] },
  },
  {
    files: ["packages/testing/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [sstNode, noLocal, noFunctions] }] },
  },
  {
    files: ["packages/functions/**", "remotion/**", "stacks/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [noLocal, coreTestSupport, testsOnly] }] },
  },
  {
    files: ["packages/functions/test/**", "stacks/test/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [noLocal, coreTestSupport] }] },
  },
  {
    files: ["packages/local/**", "packages/web/**", "scripts/**"],
    ignores: ["packages/*/test/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [coreTestSupport, testsOnly] }] },
  },
  {
    files: ["packages/local/test/**", "packages/web/test/**", "bench/**", "test/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [coreTestSupport] }] },
  },
);
