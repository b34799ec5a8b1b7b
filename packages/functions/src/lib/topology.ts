import { ALL_FEATURES, subscriptions } from "../topology";
import type { Delivery, Subscription } from "../topology";

/**
 * A handler's own subscription in THE topology, so timeouts and receive counts are read from
 * the one place that declares them. Throws a named error when the name is missing (a renamed
 * subscription must not silently fall back to defaults). The bucket does not matter for these
 * lookups, so a placeholder is used.
 */
export function subscriptionNamed(name: string): Subscription {
  const found = subscriptions({ mediaBucket: "-", features: ALL_FEATURES }).find((s) => s.name === name);
  if (!found) throw new Error(`the topology (packages/functions/src/topology.ts) has no subscription named ${JSON.stringify(name)}`);
  return found;
}

export type QueuedSubscription = Subscription & { delivery: Extract<Delivery, { kind: "queue" }> };

/** subscriptionNamed, for handlers that only work behind a queue (they report batch item failures). */
export function queuedSubscriptionNamed(name: string): QueuedSubscription {
  const found = subscriptionNamed(name);
  if (found.delivery.kind !== "queue") throw new Error(`the topology's subscription ${JSON.stringify(name)} is delivered ${found.delivery.kind}, not through a queue`);
  return found as QueuedSubscription;
}
