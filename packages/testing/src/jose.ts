export * from "@reelbridge/core/test/support/jose";
