/**
 * What the control isolate hands every worker besides the configuration:
 * each listener's shared bucket table (kept across reloads while the
 * listener's `rate_limit` stays the same, as a single isolate keeps its
 * limiter) and each backend's breaker cells, the ports the first worker bound for listeners asked on port
 * 0 (so that the others bind the same ones), and the backends' health.
 *
 * @module
 */

import { createSharedBreaker, sharedBreakerMemory } from "../breaker/mod.ts";
import { type Config, joinHostPort, parseHostPort } from "../config/mod.ts";
import {
  createSharedBuckets,
  processNow,
  type SharedBucketsMemory,
  SharedRateLimiter,
} from "../limit/mod.ts";
import { parseCidr } from "../net/mod.ts";
import { createBackend, type Pool } from "../pool/mod.ts";
import type { ControlledParts } from "../runtime/mod.ts";
import type { BackendHealth, BoundListener, SharedMemory } from "./protocol.ts";

/** The key of a backend's breaker cells: its pool and id, as a pool's states are keyed. */
export const breakerKey = (pool: string, id: string): string => `${pool} ${id}`;

/**
 * Every listener's bucket table, made once per distinct `rate_limit`, and
 * every backend's breaker cells, made once per pool and backend.
 */
export class SharedTables {
  #buckets = new Map<string, { readonly key: string; readonly memory: SharedBucketsMemory }>();
  #breakers = new Map<string, SharedArrayBuffer>();

  /**
   * The memory for `config`: a listener whose `rate_limit` did not change
   * keeps its table (and every client's bucket), a backend that stays its
   * breaker; the others get fresh ones. What `config` no longer has is dropped.
   */
  update(config: Config): SharedMemory {
    const buckets = new Map<
      string,
      { readonly key: string; readonly memory: SharedBucketsMemory }
    >();
    for (const l of config.listeners) {
      const rl = l.rate_limit;
      const key = JSON.stringify(rl);
      const before = this.#buckets.get(l.name);
      buckets.set(
        l.name,
        before?.key === key ? before : {
          key,
          memory: createSharedBuckets({
            rate: rl.requests_per_second,
            burst: rl.burst,
            maxClients: rl.max_clients,
          }),
        },
      );
    }
    const breakers = new Map<string, SharedArrayBuffer>();
    for (const [pool, p] of Object.entries(config.pools)) {
      for (const b of p.backends) {
        const key = breakerKey(pool, createBackend(b).id);
        breakers.set(key, this.#breakers.get(key) ?? createSharedBreaker());
      }
    }
    this.#buckets = buckets;
    this.#breakers = breakers;
    return this.memory;
  }

  /** The memory in force. */
  get memory(): SharedMemory {
    return {
      buckets: Object.fromEntries([...this.#buckets].map(([name, t]) => [name, t.memory])),
      breakers: Object.fromEntries(this.#breakers),
    };
  }
}

/**
 * What an isolate's runtime takes from the shared memory: limiters over
 * the bucket tables, breakers over the cells (`controls`: whether this
 * isolate runs the loops, see `ControlledParts`).
 */
export function controlledParts(memory: () => SharedMemory, controls: boolean): ControlledParts {
  return {
    limiterFor(config) {
      const rl = config.rate_limit;
      return new SharedRateLimiter({
        memory: memory().buckets[config.name]!,
        maxClients: rl.max_clients,
        ipv6Prefix: rl.ipv6_prefix,
        exempt: rl.exempt.map((n) => parseCidr(n)!),
      });
    },
    breakerFor(pool, id) {
      const buffer = memory().breakers[breakerKey(pool, id)];
      return buffer && sharedBreakerMemory(buffer, processNow);
    },
    controls,
  };
}

/**
 * `config` with every listener asked on port 0 moved to the port the first
 * worker bound for it, so that every worker binds the same one.
 *
 * @example
 * ```ts
 * pinPorts(config, new Map([["web", { name: "web", hostname: "127.0.0.1", port: 40123, url }]]));
 * // listeners[web].address: "127.0.0.1:40123"
 * ```
 */
export function pinPorts(config: Config, bound: ReadonlyMap<string, BoundListener>): Config {
  return {
    ...config,
    listeners: config.listeners.map((l) => {
      const where = parseHostPort(l.address)!;
      const port = bound.get(l.name)?.port;
      if (where.port !== 0 || port === undefined) return l;
      return { ...l, address: joinHostPort(where.host, port) };
    }),
  };
}

/** Every backend's health and warm-up, as `pools` hold them now. */
export function healthOf(pools: ReadonlyMap<string, Pool>): BackendHealth[] {
  return [...pools].flatMap(([pool, { states }]) =>
    states.map((s) => ({
      pool,
      id: s.id,
      health: s.health.health,
      warmupStep: s.health.warmupStep,
    }))
  );
}
