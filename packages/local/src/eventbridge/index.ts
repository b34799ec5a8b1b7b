export { compilePattern, testEventPattern, validateTestEvent, TEST_EVENT_REQUIRED_FIELDS } from "./pattern";
export type { CompiledPattern } from "./pattern";
export { createLocalBus, DEFAULT_MAX_ENTRY_BYTES, MAX_ENTRIES_PER_CALL } from "./bus";
export type { LocalBus, LocalBusOptions, BusEvents, DeliveryInfo } from "./bus";
export { listDlq, redriveOffline, files as dataFiles } from "./store";
export type { DlqEntry, ArchiveEntry } from "./store";
export type * from "./types";
export * from "./errors";
