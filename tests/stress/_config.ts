/**
 * The configuration file of the stress run, rewritten for each reload.
 *
 * Timings are short so that failures are noticed and recovered from within a
 * few seconds, but not so short that a busy two-core machine trips them
 * with healthy backends: nothing in the run depends on them for correctness,
 * only for how much of each failure shows.
 *
 * @module
 */

import { stringify } from "yaml";
import { type Config, loadConfigFile } from "../../src/config/mod.ts";
import { EXEMPT_NETWORK } from "./_clients.ts";

/** Upstream transports the run can use. */
export type StressTransport = "h1" | "fetch";

/** Tracked client cap: fewer than the run's rate-limited addresses, so buckets are evicted. */
export const MAX_CLIENTS = 8;

/** The run's configuration as YAML data. */
export function configData(
  transport: StressTransport,
  backends: ReadonlyArray<readonly [url: string, weight: number]>,
): Record<string, unknown> {
  return {
    server: {
      host: "127.0.0.1",
      port: 0,
      shutdown_timeout: "10s",
      // Every client of the run is this machine: the per-client connection
      // cap (256) would refuse the long run's 300 concurrent connections.
      max_connections_per_client: 100_000,
    },
    backends: backends.map(([url, weight]) => ({ url, weight })),
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
    upstream: { transport, response_header_timeout: "1s", read_timeout: "1s" },
    retries: { attempts: 2 },
    health_check: {
      interval: "200ms",
      timeout: "200ms",
      unhealthy_threshold: 3,
      healthy_threshold: 2,
    },
    circuit_breaker: {
      failure_threshold: 5,
      success_threshold: 2,
      open_timeout: "250ms",
      half_open_max_requests: 2,
    },
    // A tiny rate, so the busy rate-limited address runs dry however slow the
    // machine is; full buckets within 2.5 s, so idle ones are purged soon after.
    rate_limit: {
      requests_per_second: 2,
      burst: 5,
      max_clients: MAX_CLIENTS,
      cleanup_interval: "500ms",
      exempt: [EXEMPT_NETWORK],
    },
    // The loop runs, but the rate stays within 1–4 requests per second.
    adaptive: {
      evaluation_interval: "500ms",
      latency_threshold_ms: 1000,
      min_rate: 1,
      max_rate: 4,
    },
  };
}

/** The configuration file of one run. */
export interface ConfigFile extends AsyncDisposable {
  readonly path: string;
  /** Writes the file for these backends (`[url, weight]`). */
  write(backends: ReadonlyArray<readonly [string, number]>): Promise<void>;
  /** Loads the file as Aegis would. */
  load(): Promise<Config>;
}

/** A configuration file in a fresh temporary directory, removed on disposal. */
export async function configFile(transport: StressTransport): Promise<ConfigFile> {
  const dir = await Deno.makeTempDir({ prefix: "aegis-stress-" });
  const path = `${dir}/aegis.yml`;
  return {
    path,
    write: (backends) => Deno.writeTextFile(path, stringify(configData(transport, backends))),
    async load() {
      const loaded = await loadConfigFile(path);
      if (!loaded.ok) throw new Error(`stress config is invalid: ${JSON.stringify(loaded)}`);
      return loaded.config;
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
