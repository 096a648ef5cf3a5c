/**
 * A pool's upstream transport, as its `upstream` section describes it. Each
 * pool gets its own, so its connection limits (`max_connections` per
 * backend, idle connections, timeouts) are its own and a pool that goes
 * away can close its connections without touching anyone else's.
 *
 * @module
 */

import type { PoolConfig } from "../config/mod.ts";
import type { ClosableTransport } from "../core/mod.ts";
import { h1Transport } from "../h1/mod.ts";
import { byScheme, fetchTransport } from "../proxy/mod.ts";

/** Largest response head accepted from a backend by the h1 transport. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/**
 * A transport built the first time it is used: a pool of `http` backends
 * under `auto` never opens the runtime's HTTP clients it would need for
 * `https` ones, until a reload adds one.
 */
function lazy(build: () => ClosableTransport): ClosableTransport {
  let built: ClosableTransport | undefined;
  const get = () => (built ??= build());
  return {
    send: (request) => get().send(request),
    fetch: (request) => get().fetch(request),
    [Symbol.dispose]() {
      built?.[Symbol.dispose]();
    },
  };
}

/**
 * The transport `upstream.transport` names (`auto`: pooled HTTP/1.1 for
 * http backends, the runtime's `fetch` for https ones), with the pool's
 * connection limits.
 *
 * @example
 * ```ts
 * using transport = transportFor(config.pools.api);
 * ```
 */
export function transportFor(config: PoolConfig): ClosableTransport {
  const u = config.upstream;
  const h1 = () =>
    h1Transport({
      maxConnections: u.max_connections,
      maxIdle: u.max_idle_connections,
      idleTimeoutMs: u.idle_connection_timeout,
      connectTimeoutMs: u.connect_timeout,
      maxHeaderBytes: MAX_RESPONSE_HEAD_BYTES,
    });
  if (u.transport === "fetch") return fetchTransport();
  if (u.transport === "h1") return h1();
  return byScheme(lazy(h1), lazy(fetchTransport));
}
