export * from "@reelbridge/core/test/support/fixtures";
