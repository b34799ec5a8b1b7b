export * from "@reelbridge/core/test/support/memory-blob-store";
