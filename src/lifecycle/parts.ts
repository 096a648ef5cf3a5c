/**
 * How the parts built once per process take their settings from the first
 * configuration: the watchdog's sweep period and the logger. A reload never
 * rebuilds the first; the logger it rebuilds with {@linkcode loggerFor}.
 * (Each pool's transport is the runtime's: `runtime/transports.ts`.)
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";

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

/** The logger `logging.level` and `logging.format` describe. */
export function loggerFor(config: Config): Logger {
  return createLogger({ level: config.logging.level, format: config.logging.format });
}
