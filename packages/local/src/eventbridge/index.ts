export { compilePattern, testEventPattern, validateTestEvent, TEST_EVENT_REQUIRED_FIELDS } from "./pattern";
export type { CompiledPattern } from "./pattern";
export * from "./errors";
