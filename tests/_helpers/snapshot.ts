/**
 * Snapshot sources for tests: one listener, `default`, over the pools given,
 * with a limiter fixed at the values given.
 *
 * @module
 */

import type { StatsByName } from "../../src/metrics/mod.ts";
import type { Pool } from "../../src/pool/mod.ts";
import type { ConnectionsSource, LimiterSnapshot, ListenerSource } from "../../src/snapshot/mod.ts";

/** A fixed limiter view. */
export type LimiterView = Omit<LimiterSnapshot, "lastChange">;

/** A limiter at 80 requests per second (10–500), burst 150, three clients tracked. */
export const TEST_LIMITER: LimiterView = {
  rate: 80,
  minRate: 10,
  maxRate: 500,
  burst: 150,
  trackedClients: 3,
  maxClients: 100_000,
  evictions: 0,
};

/** No connection at all, limits of 10. */
export const NO_CONNECTIONS: ConnectionsSource = {
  active: 0,
  total: 0,
  maxConnections: 10,
  maxConnectionsPerClient: 10,
  rejected: { max_connections: 0, per_client: 0, denied: 0, rate_limited: 0 },
  acceptErrors: 0,
};

/** What a test gives for its one listener. */
export interface OneListener {
  readonly url: string;
  readonly pools: ReadonlyArray<readonly [string, Pool]>;
  readonly limiter: LimiterView;
  /** The counters of every listener; the one listener's are `stats.get("default")`. */
  readonly stats: StatsByName;
  readonly connections?: ConnectionsSource;
}

/** The sources of one listener, `default`, routing to every pool given. */
export function oneListener(o: OneListener): {
  pools: () => ReadonlyArray<readonly [string, Pool]>;
  listeners: () => ListenerSource[];
  stats: StatsByName;
  connections: () => ConnectionsSource;
} {
  const connections = () => o.connections ?? NO_CONNECTIONS;
  return {
    pools: () => o.pools,
    listeners: () => [{
      name: "default",
      url: o.url,
      pools: o.pools.map(([name]) => name),
      limiter: () => o.limiter,
      lastRateChange: () => undefined,
      stats: o.stats.get("default"),
      connections,
    }],
    stats: o.stats,
    connections,
  };
}
