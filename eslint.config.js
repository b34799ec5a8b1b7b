// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const aws = { group: ["@aws-sdk/*", "aws-sdk", "aws-lambda", "sst", "sst/*", "@remotion/lambda", "@remotion/lambda/*"], message: "AWS belongs in adapters/aws, functions and stacks, not here." };
const sstNode = { group: ["sst/node", "sst/node/*"], message: "sst/node lookups throw without SST_APP and may call SSM at import time; read config in the functions' env module." };
const noLocal = { group: ["@reelbridge/local", "@reelbridge/local/*"], message: "Nothing depends on the local runtime." };
const noFunctions = { group: ["@reelbridge/functions", "@reelbridge/functions/*"], message: "core must not depend on functions (events <- core <- functions)." };
const noCore = { group: ["@reelbridge/core", "@reelbridge/core/*"], message: "events is the bottom of the graph: it imports zod only." };

export default tseslint.config(
  { ignores: ["**/node_modules/**", ".sst/**", ".tools/**", "infra.out/**", "**/dist/**", "cdk.out/**", ".reelbridge/**", "packages/events/schemas/**"] },
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
  // Import boundaries (STYLE.md: events <- core <- functions; local depends on them, nothing on local).
  {
    files: ["packages/events/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [aws, sstNode, noLocal, noFunctions, noCore] }] },
  },
  {
    files: ["packages/core/**"],
    ignores: ["packages/core/src/adapters/aws/**", "packages/core/test/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [aws, sstNode, noLocal, noFunctions] }] },
  },
  {
    files: ["packages/core/src/adapters/aws/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [sstNode, noLocal, noFunctions] }] },
  },
  {
    files: ["packages/functions/**", "remotion/**", "stacks/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [noLocal] }] },
  },
);
