import type { SSTConfig } from "sst";
import { Storage } from "./stacks/Storage";
import { Bus } from "./stacks/Bus";
import { Pipeline } from "./stacks/Pipeline";
import { Api } from "./stacks/Api";
import { Web } from "./stacks/Web";

export default {
  config(input) {
    return {
      name: "reelbridge",
      region: "us-east-1",
      stage: input.stage,
    };
  },
  stacks(app) {
    app.setDefaultFunctionProps({
      runtime: "nodejs24.x",
      architecture: "arm_64",
      tracing: "active",
      logRetention: "one_month",
      environment: { NODE_OPTIONS: "--enable-source-maps", LOG_LEVEL: "INFO" },
      nodejs: { format: "esm", sourcemap: true },
    });
    if (app.stage !== "prod") app.setDefaultRemovalPolicy("destroy");
    app.stack(Storage).stack(Bus).stack(Api).stack(Pipeline).stack(Web);
  },
} satisfies SSTConfig;
