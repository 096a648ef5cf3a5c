/**
 * The listeners' connection limits from the configuration: each listener's
 * `max_connections` (`auto`: a share of what the descriptor limit leaves,
 * see `server/fd_limit.ts`) and `max_connections_per_client`, and fixed
 * shares for the admin and metrics listeners.
 *
 * @module
 */

import type { Config } from "./config/mod.ts";
import type { Logger } from "./log/mod.ts";
import {
  ADMIN_MAX_CONNECTIONS,
  type ConnectionLimits,
  deriveMaxConnections,
  METRICS_MAX_CONNECTIONS,
} from "./server/mod.ts";

/** The admin listener's share of descriptors is fixed (it is in the reserve). */
export const ADMIN_LIMITS: ConnectionLimits = Object.freeze({
  maxConnections: ADMIN_MAX_CONNECTIONS,
  maxPerClient: ADMIN_MAX_CONNECTIONS,
});

/** So is the metrics listener's, when it runs. */
export const METRICS_LIMITS: ConnectionLimits = Object.freeze({
  maxConnections: METRICS_MAX_CONNECTIONS,
  maxPerClient: METRICS_MAX_CONNECTIONS,
});

/**
 * Every listener's limits under `config`, by name. The descriptors left for
 * clients (after the reserve for every pool's backend connections) go to
 * the listeners with an explicit `max_connections` first; the rest is split
 * evenly among the `auto` ones, at least 1 each. Explicit limits that add
 * up to more than what is left are kept, with a warning: past them a flood
 * can exhaust descriptors again.
 *
 * @example
 * ```ts
 * listenerLimits(config, 4096, logger).get("default"); // { maxConnections: 1940, maxPerClient: 256 }
 * ```
 */
export function listenerLimits(
  config: Config,
  descriptorLimit: number,
  logger: Logger,
): Map<string, ConnectionLimits> {
  const pools = Object.values(config.pools);
  const backends = pools.reduce((n, p) => n + p.backends.length, 0);
  const derived = deriveMaxConnections({
    descriptorLimit,
    backends,
    upstreamMaxConnections: 0,
    upstreamConnections: pools.reduce(
      (n, p) => n + p.backends.length * p.upstream.max_connections,
      0,
    ),
    metricsListener: config.admin.metrics_address !== "",
  }).maxConnections;
  let explicit = 0;
  let autos = 0;
  for (const l of config.listeners) {
    if (l.max_connections === "auto") autos++;
    else explicit += l.max_connections;
  }
  if (explicit > derived) {
    logger.warn(
      "max_connections is above what the descriptor limit leaves for clients: a flood can exhaust descriptors",
      { max_connections: explicit, safe: derived, descriptor_limit: descriptorLimit },
    );
  }
  const share = Math.max(1, Math.floor(Math.max(0, derived - explicit) / Math.max(1, autos)));
  return new Map(config.listeners.map((l) => [l.name, {
    maxConnections: l.max_connections === "auto" ? share : l.max_connections,
    maxPerClient: l.max_connections_per_client,
  }]));
}
