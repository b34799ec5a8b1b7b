export * from "@reelbridge/core/test/support/memory-step-state";
