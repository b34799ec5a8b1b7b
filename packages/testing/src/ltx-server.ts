export * from "@reelbridge/core/test/support/ltx-server";
