/**
 * The proxy of a flat configuration for handler tests: its one listener,
 * and a router that sends everything to its one pool, `default`.
 *
 * @module
 */

import type { Config, ListenerConfig, PoolConfig } from "../../src/config/mod.ts";
import type { Send } from "../../src/core/mod.ts";
import type { Pool } from "../../src/pool/mod.ts";
import { createUpstream, type Router } from "../../src/proxy/mod.ts";

/** The one listener of a flat configuration. */
export function frontOf(config: Config): ListenerConfig {
  return config.listeners[0]!;
}

/** The one pool of a flat configuration. */
export function poolOf(config: Config): PoolConfig {
  return config.pools.default!;
}

/** A router that sends every request, path unchanged, to `pool` as the pool `default`. */
export function toPool(config: Config, pool: Pool, send: Send): Router {
  const upstream = createUpstream("default", poolOf(config), pool, send);
  return (_method, _authority, path) => ({ upstream, path });
}
