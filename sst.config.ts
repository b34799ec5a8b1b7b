import type { SSTConfig } from "sst";
import { Storage } from "./stacks/Storage";
import { Bus } from "./stacks/Bus";
import { Pipeline } from "./stacks/Pipeline";
import { Api } from "./stacks/Api";
import { Web } from "./stacks/Web";
import { FUNCTION_DEFAULTS } from "./stacks/lib/functions";

export default {
  config(input) {
    return {
      name: "reelbridge",
      region: "us-east-1",
      stage: input.stage,
    };
  },
  stacks(app) {
    app.setDefaultFunctionProps(FUNCTION_DEFAULTS);
    if (app.stage !== "prod") app.setDefaultRemovalPolicy("destroy");
    app.stack(Storage).stack(Bus).stack(Api).stack(Pipeline).stack(Web);
  },
} satisfies SSTConfig;
