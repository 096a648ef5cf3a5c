/**
 * What one pool derives from its configuration: its backends with their
 * live state, its transport, its settings for the request path, and the
 * health loops that keep its backends' state current. A reload builds a
 * new one from the pool of the same name, so state is keyed by pool and
 * URL: backends that stay keep their health, breaker, warm-up and latency.
 *
 * @module
 */

import { isL4Pool, type PoolConfig } from "../config/mod.ts";
import type { ClosableTransport } from "../core/mod.ts";
import {
  connectProbe,
  httpProbe,
  type Probe,
  startHealthLoop,
  WARMUP_STEPS,
} from "../health/mod.ts";
import { createPool, type Pool, type StateListener } from "../pool/mod.ts";
import { createUpstream, type Upstream } from "../proxy/mod.ts";
import type { Shared } from "./shared.ts";

/** One pool, running. */
export interface PoolRuntime {
  /** The pool's name. */
  readonly name: string;
  readonly config: PoolConfig;
  /** Its backends and balancer. */
  readonly pool: Pool;
  /** How its backends are reached; carried over to the pool that replaces this one. */
  readonly transport: ClosableTransport;
  /** Whether the pool closes its transport when it goes away. */
  readonly owned: boolean;
  /** The pool as routes hand it to the request path. */
  readonly upstream: Upstream;
  /** Requests in flight to its backends now. */
  inFlight(): number;
  /** Starts the health loops. */
  start(): void;
  /** Stops them (requests in flight are not affected). */
  stop(): void;
  /** Settles when every loop has stopped. */
  readonly stopped: Promise<void>;
}

/** Logs and records breaker changes, naming the pool. */
function breakerEvents(shared: Shared, pool: string): StateListener {
  return {
    onBreaker(state, t) {
      const fields = { pool, backend: state.id, from: t.from, to: t.to, reason: t.reason };
      const message = `circuit breaker ${
        t.to.replace("_", "-")
      } for ${state.id} (pool ${pool}): ${t.reason}`;
      if (t.to === "open") shared.logger.warn("circuit breaker opened", fields);
      else shared.logger.info("circuit breaker changed", fields);
      shared.events.record("breaker", message, fields);
    },
  };
}

/**
 * How a pool's backends are checked: over HTTP at `health_check.path`; an
 * L4 pool without a path by connecting (tcp) — a pool of udp listeners
 * only has no active check then, and relies on the breaker.
 */
function probeOf(
  config: PoolConfig,
  transport: ClosableTransport,
  udp: boolean,
): Probe | undefined {
  const hc = config.health_check;
  if (hc.path !== undefined) return httpProbe(transport.fetch, hc.path, hc.timeout);
  return isL4Pool(config) && !udp ? connectProbe(hc.timeout) : undefined;
}

/**
 * Builds a pool. With `previous` (the pool of the same name being
 * replaced), backends that stay keep their state, new ones start unhealthy
 * until checked, and the transport is carried over (a reload that would
 * change its settings is refused before this). `udp`: a udp listener
 * forwards to the pool, so its backends may not accept TCP connections.
 */
export function buildPoolRuntime(
  name: string,
  config: PoolConfig,
  shared: Shared,
  previous?: PoolRuntime,
  udp = false,
): PoolRuntime {
  const { logger, clock, events } = shared;
  const pool = createPool(config, {
    clock,
    listener: breakerEvents(shared, name),
    previous: previous?.pool,
    breakerMemory: (id) => shared.controlled?.breakerFor(name, id),
  });
  const { transport, owned } = previous ?? shared.transportFor(config);
  const upstream = createUpstream(name, config, pool, transport.send);
  const abort = new AbortController();
  const loops: Promise<void>[] = [];

  const start = () => {
    const hc = config.health_check;
    const probe = shared.probe ?? probeOf(config, transport, udp);
    // A worker isolate of several takes its backends' health from the control isolate.
    if (!probe || shared.controlled?.controls === false) return;
    for (const state of pool.states) {
      const { url } = state.backend;
      loops.push(startHealthLoop({
        // Probes go to the backend's origin: the path is absolute there,
        // whatever prefix the backend URL carries. An L4 backend is probed
        // over HTTP at its address when its pool has a path.
        baseUrl: url.protocol === "tcp:" && hc.path !== undefined
          ? `http://${url.host}`
          : url.protocol === "tcp:"
          ? url.href
          : url.origin,
        intervalMs: hc.interval,
        clock,
        probe,
        signal: abort.signal,
        onResult(result) {
          // Aegis out of descriptors says nothing about the backend's health.
          if (result.inconclusive) {
            logger.debug("health check skipped", {
              pool: name,
              backend: state.id,
              detail: result.detail,
            });
            return;
          }
          const change = state.observeHealth(result.ok);
          if (!result.ok && logger.enabled("debug")) {
            logger.debug("health check failed", {
              pool: name,
              backend: state.id,
              detail: result.detail,
            });
          }
          if (!change) return;
          const fields = {
            pool: name,
            backend: state.id,
            health: change.to,
            warmup_percent: (change.warmupStep / WARMUP_STEPS) * 100,
            reason: change.reason,
            detail: result.detail,
          };
          const who = `${state.id} (pool ${name})`;
          if (change.from !== change.to) {
            if (change.to === "unhealthy") logger.warn("backend unhealthy", fields);
            else logger.info("backend healthy again", fields);
            events.record("health", `${who} is ${change.to}: ${change.reason}`, fields);
          } else {
            logger.info("backend warming up", fields);
            events.record("warmup", `${who}: ${change.reason}`, fields);
          }
        },
      }));
    }
  };

  return {
    name,
    config,
    pool,
    transport,
    owned,
    upstream,
    inFlight: () => pool.states.reduce((n, s) => n + s.inFlight, 0),
    start,
    stop: () => abort.abort(),
    get stopped() {
      return Promise.all(loops).then(() => {});
    },
  };
}
