/**
 * Every core (`server.workers` above 1): a control isolate and N worker
 * isolates in one process, each worker accepting on its own `SO_REUSEPORT`
 * socket. `control.ts` says what is shared and who owns what.
 *
 * @module
 */

import { type Config, MAX_WORKERS } from "../config/mod.ts";

export { type RunningAegis, startWorkers, type Workers, type WorkersOptions } from "./control.ts";
export { mergeSnapshots } from "./merge.ts";

/**
 * How many worker isolates `server.workers` asks for here: `auto` is one
 * per core the runtime reports (`navigator.hardwareConcurrency`), within
 * the configuration's bounds.
 *
 * @example
 * ```ts
 * workerCount({ ...config, server: { ...config.server, workers: "auto" } }); // 16 on 16 cores
 * ```
 */
export function workerCount(config: Config): number {
  const { workers } = config.server;
  if (workers !== "auto") return workers;
  return Math.max(1, Math.min(MAX_WORKERS, navigator.hardwareConcurrency || 1));
}

/**
 * Whether this platform lets several sockets bind one port and spreads
 * connections between them (`SO_REUSEPORT` with load balancing): Linux.
 * Elsewhere Aegis runs one isolate and says so.
 */
export function reusePortSpreads(os: typeof Deno.build.os = Deno.build.os): boolean {
  return os === "linux";
}
