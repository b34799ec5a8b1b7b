export * from "@reelbridge/core/test/support/ledger";
