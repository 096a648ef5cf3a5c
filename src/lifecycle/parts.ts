/**
 * How the parts built once per process take their settings from the first
 * configuration: the watchdog's sweep period, the upstream transport, the
 * logger. A reload never rebuilds the first two (see `reload/plan.ts`);
 * the logger it rebuilds with {@linkcode loggerFor}.
 *
 * @module
 */

import type { Config, PoolConfig } from "../config/mod.ts";
import type { ClosableTransport } from "../core/mod.ts";
import { h1Transport } from "../h1/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { byScheme, fetchTransport } from "../proxy/mod.ts";

/**
 * The watchdog's sweep period: a tenth of the shortest timeout of any
 * listener or pool, within 5–250 ms, so a deadline fires at most a tenth
 * late and an idle process wakes up rarely.
 */
export function tickFor(config: Config): number {
  const shortest = Math.min(
    ...config.listeners.flatMap((l) => [l.read_timeout, l.write_timeout, l.idle_timeout]),
    ...Object.values(config.pools).flatMap((p) => [
      p.upstream.response_header_timeout,
      p.upstream.read_timeout,
    ]),
  );
  return Math.min(250, Math.max(5, Math.floor(shortest / 10)));
}

/** Largest response head accepted from a backend by the h1 transport. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/**
 * A pool's upstream transport, as its `upstream.transport` names it
 * (`auto`: pooled HTTP/1.1 for http backends, the runtime's `fetch` for
 * https ones), with the pool's connection limits.
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
  return byScheme(h1(), fetchTransport());
}

/** The logger `logging.level` and `logging.format` describe. */
export function loggerFor(config: Config): Logger {
  return createLogger({ level: config.logging.level, format: config.logging.format });
}
