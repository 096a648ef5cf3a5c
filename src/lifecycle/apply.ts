/**
 * Applying a reload plan to the running parts, all or nothing: bind every
 * listener the plan opens or moves; if one cannot bind, close the others
 * and refuse (nothing changed, the old configuration keeps serving).
 * Otherwise swap the runtime, put the new sockets in service, drain the
 * ones they replace or the plan closes, and give the listeners that stay
 * their new limits and timeouts.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import type { ReloadChanges } from "../reload/mod.ts";
import type { ConnectionLimits } from "../server/mod.ts";
import type { CurrentRuntime } from "./current.ts";
import { describeBindError, listenerOf } from "./listener.ts";
import type { ListenerSet, StagedListeners } from "./listener_set.ts";

/** The running parts a plan changes. */
export interface ApplyParts {
  readonly listeners: ListenerSet;
  readonly current: CurrentRuntime;
  /** Every listener's limits under the plan's configuration, by name. */
  readonly limits: ReadonlyMap<string, ConnectionLimits>;
  /** Switches logging to the new configuration's; absent when logging is not Aegis's to change. */
  readonly useLogger?: (next: Config) => void;
}

/**
 * Applies `plan`; returns the problems that kept it from applying (having
 * changed nothing), or nothing when applied.
 *
 * @example
 * ```ts
 * createReloader({ ..., apply: (plan) => applyPlan(plan, { listeners, current, limits }) });
 * ```
 */
export async function applyPlan(
  plan: ReloadChanges,
  parts: ApplyParts,
): Promise<readonly string[]> {
  const { listeners, current, limits } = parts;
  const { next } = plan;
  const { opened, moved } = plan.listeners;
  if (listeners.draining && opened.length + moved.length > 0) {
    return ["listeners: Aegis is draining, so no listener opens; restart Aegis"];
  }
  let staged: StagedListeners | undefined;
  try {
    staged = listeners.stage(plan.listeners, next, limits);
    // udp sockets bind asynchronously: every one must be bound before anything changes.
    await Promise.all([...staged.bound.values()].map((l) => l.ready));
  } catch (e) {
    if (staged) listeners.unstage(staged);
    const name = listenerOf(e);
    const address = next.listeners.find((l) => l.name === name)?.address ?? String(name);
    return [`listeners[${name}]: ${describeBindError(e, address)}; nothing changed`];
  }
  if (listeners.draining && staged.bound.size > 0) {
    listeners.unstage(staged);
    return ["listeners: Aegis is draining, so no listener opens; restart Aegis"];
  }
  try {
    if (plan.newLogger) parts.useLogger?.(next);
    current.replace(next);
  } catch (e) {
    listeners.unstage(staged);
    throw e;
  }
  listeners.commit(plan.listeners, staged, next, next.server.shutdown_timeout);
  for (const config of next.listeners) {
    listeners.get(config.name)!.reconfigure(config, limits.get(config.name)!);
  }
  return [];
}
