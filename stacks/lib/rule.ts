import * as events from "aws-cdk-lib/aws-events";
import type { Construct } from "constructs";

/**
 * An EventBridge rule whose EventPattern is exactly the given JSON (the topology's pattern, as
 * the local bus matches it), not CDK's camelCase rendering of it, so nothing is lost between
 * the two runtimes (e.g. `$or`, operators on top-level fields).
 */
export function ruleWithPattern(scope: Construct, id: string, props: { bus: events.IEventBus; pattern: Record<string, unknown>; ruleName?: string; description?: string }): events.Rule {
  const rule = new events.Rule(scope, id, {
    eventBus: props.bus,
    ruleName: props.ruleName,
    description: props.description?.slice(0, 512),
    // A placeholder so the L2 construct validates; replaced by the exact JSON below.
    eventPattern: { source: ["placeholder"] },
  });
  (rule.node.defaultChild as events.CfnRule).eventPattern = props.pattern;
  return rule;
}
