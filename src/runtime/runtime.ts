/**
 * Everything Aegis derives from one configuration: every pool (backends,
 * transport, health loops) and every listener (routes, limiter, adaptive
 * loop, handler). A reload builds a new runtime from the new configuration
 * and the old runtime, each pool and listener from the one of the same
 * name, then stops the old one; transports of pools that went away are
 * closed once their requests are done.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import type { Snapshot } from "../snapshot/mod.ts";
import { buildListenerRuntime, type ListenerRuntime } from "./listener_runtime.ts";
import { buildPoolRuntime, type PoolRuntime } from "./pool_runtime.ts";
import type { Shared } from "./shared.ts";

/** One configuration, running. */
export interface Runtime {
  readonly config: Config;
  /** Every pool, by name, in configuration order. */
  readonly pools: ReadonlyMap<string, PoolRuntime>;
  /** Every listener, by name, in configuration order. */
  readonly listeners: ReadonlyMap<string, ListenerRuntime>;
  /** Starts the loops; `snapshot` builds a fresh snapshot for the adaptive loops. */
  start(snapshot: () => Snapshot): void;
  /**
   * Stops the loops (requests in flight are not affected). The transports
   * of pools `next` does not carry over are retired: closed once their
   * requests are done. Without `next` (Aegis stopping), all of them.
   */
  stop(next?: Runtime): void;
  /** Settles when every loop has stopped and every shared store connection is closed. */
  readonly stopped: Promise<void>;
}

/**
 * Builds a runtime. With `previous`, each pool and listener is built from
 * the one of the same name: backends that stay keep their state (keyed by
 * pool and URL), pools keep their transport, listeners their limiter when
 * their `rate_limit` did not change.
 *
 * @example
 * ```ts
 * const first = buildRuntime(config, shared);
 * first.start(() => snapshots.tick());
 * const next = buildRuntime(reloaded, shared, first);
 * next.start(() => snapshots.tick());
 * first.stop(next);
 * ```
 */
export function buildRuntime(config: Config, shared: Shared, previous?: Runtime): Runtime {
  const pools = new Map<string, PoolRuntime>();
  const udp = new Set(config.listeners.filter((l) => l.protocol === "udp").map((l) => l.pool));
  for (const [name, pool] of Object.entries(config.pools)) {
    const before = previous?.pools.get(name);
    pools.set(name, buildPoolRuntime(name, pool, shared, before, udp.has(name)));
  }
  const listeners = new Map<string, ListenerRuntime>();
  for (const listener of config.listeners) {
    const before = previous?.listeners.get(listener.name);
    listeners.set(listener.name, buildListenerRuntime(listener, pools, shared, before));
  }
  let stopped: Promise<void> | undefined;
  const allStopped = () =>
    Promise.all([...pools.values(), ...listeners.values()].map((p) => p.stopped)).then(() => {});
  return {
    config,
    pools,
    listeners,
    start(snapshot) {
      for (const pool of pools.values()) pool.start();
      for (const listener of listeners.values()) listener.start(snapshot);
    },
    stop(next) {
      for (const listener of listeners.values()) listener.stop();
      for (const pool of pools.values()) {
        pool.stop();
        const carried = next?.pools.get(pool.name)?.transport === pool.transport;
        if (pool.owned && !carried) {
          shared.retired.retire(pool.transport, () => pool.inFlight() > 0);
        }
      }
      stopped = allStopped();
    },
    get stopped() {
      return stopped ?? allStopped();
    },
  };
}
