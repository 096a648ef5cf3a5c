/**
 * The listeners' connection limits from the configuration:
 * `server.max_connections` (`auto`: derived from the descriptor limit, see
 * `server/fd_limit.ts`) and `server.max_connections_per_client` for the
 * public listener, a fixed share for the admin listener.
 *
 * @module
 */

import type { Config } from "./config/mod.ts";
import type { Logger } from "./log/mod.ts";
import {
  ADMIN_MAX_CONNECTIONS,
  type ConnectionLimits,
  deriveMaxConnections,
} from "./server/mod.ts";

/** The admin listener's share of descriptors is fixed (it is in the reserve). */
export const ADMIN_LIMITS: ConnectionLimits = Object.freeze({
  maxConnections: ADMIN_MAX_CONNECTIONS,
  maxPerClient: ADMIN_MAX_CONNECTIONS,
});

/**
 * The public listener's limits under `config`. An explicit
 * `server.max_connections` above what `auto` would allow is kept, with a
 * warning: past it a flood can exhaust descriptors again.
 */
export function publicLimits(
  config: Config,
  descriptorLimit: number,
  logger: Logger,
): ConnectionLimits {
  const derived = deriveMaxConnections({
    descriptorLimit,
    backends: config.backends.length,
    upstreamMaxConnections: config.upstream.max_connections,
  }).maxConnections;
  const max = config.server.max_connections;
  if (max !== "auto" && max > derived) {
    logger.warn(
      "server.max_connections is above what the descriptor limit leaves for clients: a flood can exhaust descriptors",
      { max_connections: max, safe: derived, descriptor_limit: descriptorLimit },
    );
  }
  return {
    maxConnections: max === "auto" ? derived : max,
    maxPerClient: config.server.max_connections_per_client,
  };
}
