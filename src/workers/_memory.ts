/**
 * What the control isolate hands every worker besides the configuration:
 * each listener's shared bucket table (kept across reloads while the
 * listener's `rate_limit` stays the same, as a single isolate keeps its
 * limiter), the ports the first worker bound for listeners asked on port
 * 0 (so that the others bind the same ones), and the backends' health.
 *
 * @module
 */

import { type Config, joinHostPort, parseHostPort } from "../config/mod.ts";
import { createSharedBuckets, type SharedBucketsMemory } from "../limit/mod.ts";
import type { Pool } from "../pool/mod.ts";
import type { BackendHealth, BoundListener, BucketTables } from "./protocol.ts";

/** Every listener's bucket table, made once per distinct `rate_limit`. */
export class SharedTables {
  #tables = new Map<string, { readonly key: string; readonly memory: SharedBucketsMemory }>();

  /**
   * The tables for `config`'s listeners: a listener whose `rate_limit` did
   * not change keeps its table (and every client's bucket); the others get
   * a fresh one. Tables of listeners `config` no longer has are dropped.
   */
  update(config: Config): BucketTables {
    const next = new Map<string, { readonly key: string; readonly memory: SharedBucketsMemory }>();
    for (const l of config.listeners) {
      const rl = l.rate_limit;
      const key = JSON.stringify(rl);
      const before = this.#tables.get(l.name);
      next.set(
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
    this.#tables = next;
    return this.tables;
  }

  /** The tables in force, by listener name. */
  get tables(): BucketTables {
    return Object.fromEntries([...this.#tables].map(([name, t]) => [name, t.memory]));
  }
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
