export * from "@reelbridge/core/test/support/png";
