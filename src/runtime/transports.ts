/**
 * A pool's upstream transport, as its `upstream` section describes it. Each
 * pool gets its own, so its connection limits (`max_connections` per
 * backend, idle connections, timeouts) and its trust in `https` backends
 * (`ca_file`, `server_name`) are its own, and a pool that goes away can
 * close its connections without touching anyone else's.
 *
 * @module
 */

import type { PoolConfig } from "../config/mod.ts";
import type { ClosableTransport } from "../core/mod.ts";
import { h1Transport } from "../h1/mod.ts";
import { fetchTransport } from "../proxy/mod.ts";
import { loadCaBundle } from "../tls/mod.ts";

/** Largest response head accepted from a backend by the h1 transport. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/**
 * The transport `upstream.transport` names (`auto` and `h1`: pooled
 * HTTP/1.1, over TLS for https backends; `fetch`: the runtime's client),
 * with the pool's connection limits and trust. `upstream.ca_file` is read
 * here, when the pool starts (the configuration load checked it).
 *
 * @throws {Error} when `upstream.ca_file` can no longer be read
 * @example
 * ```ts
 * using transport = transportFor(config.pools.api);
 * ```
 */
export function transportFor(config: PoolConfig): ClosableTransport {
  const u = config.upstream;
  const caCerts = u.ca_file === undefined ? undefined : loadCaBundle(u.ca_file);
  if (u.transport === "fetch") return fetchTransport({ caCerts });
  return h1Transport({
    maxConnections: u.max_connections,
    maxIdle: u.max_idle_connections,
    idleTimeoutMs: u.idle_connection_timeout,
    connectTimeoutMs: u.connect_timeout,
    maxHeaderBytes: MAX_RESPONSE_HEAD_BYTES,
    tls: { caCerts, serverName: u.server_name },
  });
}
