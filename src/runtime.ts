/**
 * Everything Aegis derives from one configuration: the pool, the rate
 * limiter, the proxy handler, and the loops that keep them current (health
 * checks, the adaptive rate, bucket purging). A reload builds a new runtime
 * from the new configuration and the old runtime, then stops the old one.
 *
 * @module
 */

import type { Clock, Timer, Watchdog } from "./clock/mod.ts";
import type { Config, ListenerConfig, PoolConfig } from "./config/mod.ts";
import type { EventLog } from "./events/mod.ts";
import { httpProbe, type Probe, startHealthLoop, WARMUP_STEPS } from "./health/mod.ts";
import { type AdaptiveChange, AdaptiveLoop, RateLimiter } from "./limit/mod.ts";
import type { Logger } from "./log/mod.ts";
import type { DurationHistograms, GlobalStats } from "./metrics/mod.ts";
import { parseCidr } from "./net/mod.ts";
import { createPool, type Pool, type StateListener } from "./pool/mod.ts";
import { createProxy, createUpstream, rateLimitPhase } from "./proxy/mod.ts";
import type { LimiterSnapshot, Snapshot } from "./snapshot/mod.ts";
import { type ClosableTransport, type ProxyHandler } from "./core/mod.ts";

/** The last adaptive rate change, with its wall-clock time. */
export type LastRateChange = AdaptiveChange & { readonly time: number };

/** What every runtime shares: built once per process. */
export interface Shared {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly watchdog: Watchdog;
  readonly transport: ClosableTransport;
  readonly events: EventLog;
  readonly stats: GlobalStats;
  readonly durations: DurationHistograms;
  readonly rateChange: { last?: LastRateChange };
  readonly probe?: Probe;
}

/** One configuration, running. */
export interface Runtime {
  readonly config: Config;
  readonly pool: Pool;
  readonly limiter: RateLimiter;
  readonly handler: ProxyHandler;
  /** The limiter as a snapshot shows it. */
  limiterView(): Omit<LimiterSnapshot, "lastChange">;
  /** Starts the loops; `snapshot` builds a fresh snapshot for the adaptive loop. */
  start(snapshot: () => Snapshot): void;
  /** Stops the loops (requests in flight are not affected). */
  stop(): void;
  /** Settles when every loop has stopped. */
  readonly stopped: Promise<void>;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function breakerListener(shared: Shared): StateListener {
  return {
    onBreaker(state, t) {
      const fields = { backend: state.id, from: t.from, to: t.to, reason: t.reason };
      const message = `circuit breaker ${t.to.replace("_", "-")} for ${state.id}: ${t.reason}`;
      if (t.to === "open") shared.logger.warn("circuit breaker opened", fields);
      else shared.logger.info("circuit breaker changed", fields);
      shared.events.record("breaker", message, fields);
    },
  };
}

/**
 * The one listener and the one pool this runtime serves: a configuration
 * with several is refused at start and on reload (`servable`).
 */
export function frontAndPool(
  config: Config,
): { front: ListenerConfig; poolName: string; poolConfig: PoolConfig } {
  const front = config.listeners[0]!;
  const poolName = front.routes[0]!.pool;
  return { front, poolName, poolConfig: config.pools[poolName]! };
}

/**
 * Why this runtime cannot serve `config` yet, or `undefined` when it can:
 * one listener with one route, to one pool.
 */
export function unservable(config: Config): string | undefined {
  const routes = config.listeners.flatMap((l) => l.routes);
  if (
    config.listeners.length === 1 && Object.keys(config.pools).length === 1 &&
    routes.length === 1 && routes[0]!.match === undefined
  ) return undefined;
  return "this build serves one listener with one default route to one pool; routing to several arrives with issue 12's runtime split";
}

/**
 * Builds a runtime. With `previous`, backends that stay keep their state,
 * and the rate limiter (with every client's bucket) is kept when the
 * `rate_limit` section did not change.
 */
export function buildRuntime(config: Config, shared: Shared, previous?: Runtime): Runtime {
  const { logger, clock, events, stats } = shared;
  const { front, poolName, poolConfig } = frontAndPool(config);
  const pool = createPool(poolConfig, {
    clock,
    listener: breakerListener(shared),
    previous: previous?.pool,
  });
  const rl = front.rate_limit;
  const ad = front.adaptive;
  const sameLimits = previous !== undefined &&
    JSON.stringify(frontAndPool(previous.config).front.rate_limit) === JSON.stringify(rl);
  const limiter = sameLimits ? previous.limiter : new RateLimiter({
    rate: rl.requests_per_second,
    burst: rl.burst,
    maxClients: rl.max_clients,
    ipv6Prefix: rl.ipv6_prefix,
    exempt: rl.exempt.map((n) => parseCidr(n)!),
    clock,
  });
  // New adaptive bounds apply to the rate in force at once.
  const bounded = Math.min(ad.max_rate, Math.max(ad.min_rate, limiter.rate));
  if (bounded !== limiter.rate) limiter.setRate(bounded);

  const upstream = createUpstream(poolName, poolConfig, pool, shared.transport.send);
  const handler = createProxy({
    listener: front,
    route: (_method, _authority, path) => ({ upstream, path }),
    logger,
    watchdog: shared.watchdog,
    clock,
    stats,
    durations: shared.durations,
    phases: [rateLimitPhase(limiter, stats)],
  });

  const abort = new AbortController();
  const loops: Promise<void>[] = [];
  let purgeTimer: Timer | undefined;

  const startHealth = () => {
    const hc = poolConfig.health_check;
    const probe = shared.probe ?? httpProbe(shared.transport.fetch, hc.path, hc.timeout);
    for (const state of pool.states) {
      loops.push(startHealthLoop({
        // Probes go to the backend's origin: the path is absolute there,
        // whatever prefix the backend URL carries.
        baseUrl: state.backend.url.origin,
        intervalMs: hc.interval,
        clock,
        probe,
        signal: abort.signal,
        onResult(result) {
          // Aegis out of descriptors says nothing about the backend's health.
          if (result.inconclusive) {
            logger.debug("health check skipped", { backend: state.id, detail: result.detail });
            return;
          }
          const change = state.observeHealth(result.ok);
          if (!result.ok && logger.enabled("debug")) {
            logger.debug("health check failed", { backend: state.id, detail: result.detail });
          }
          if (!change) return;
          const fields = {
            backend: state.id,
            health: change.to,
            warmup_percent: (change.warmupStep / WARMUP_STEPS) * 100,
            reason: change.reason,
            detail: result.detail,
          };
          if (change.from !== change.to) {
            if (change.to === "unhealthy") logger.warn("backend unhealthy", fields);
            else logger.info("backend healthy again", fields);
            events.record("health", `${state.id} is ${change.to}: ${change.reason}`, fields);
          } else {
            logger.info("backend warming up", fields);
            events.record("warmup", `${state.id}: ${change.reason}`, fields);
          }
        },
      }));
    }
  };

  const startAdaptive = (snapshot: () => Snapshot) => {
    // The adaptive loop reads the P95 of healthy backends from a fresh
    // snapshot and moves every client's rate at once.
    const loop = new AdaptiveLoop({
      intervalMs: ad.evaluation_interval,
      clock,
      settings: {
        latencyThresholdMs: ad.latency_threshold_ms,
        reductionFactor: ad.reduction_factor,
        recoveryFactor: ad.recovery_factor,
        minRate: ad.min_rate,
        maxRate: ad.max_rate,
      },
      initialRate: limiter.rate,
      observe: () => snapshot().healthyP95 ?? undefined,
      apply: (rate) => limiter.setRate(rate),
      onChange(change) {
        shared.rateChange.last = { ...change, time: Date.now() };
        const fields = {
          from: round(change.from),
          to: round(change.to),
          p95_ms: round(change.p95),
          reason: change.reason,
        };
        logger.info("rate limit adjusted", fields);
        events.record(
          "rate",
          `rate ${fields.from} → ${fields.to} req/s (P95 ${fields.p95_ms} ms, ${change.reason})`,
          fields,
        );
      },
    });
    loop.start(abort.signal);
  };

  const startPurge = () => {
    // Buckets idle long enough to have refilled completely are indistinguishable
    // from new ones: dropping them loses nothing and bounds memory.
    const purge = () => {
      const fullAfterMs = (limiter.burst / limiter.rate) * 1000;
      const removed = limiter.purge(Math.max(rl.cleanup_interval, fullAfterMs));
      if (removed > 0 && logger.enabled("debug")) {
        logger.debug("rate limit buckets purged", { removed });
      }
      purgeTimer = clock.setTimer(rl.cleanup_interval, purge);
    };
    purgeTimer = clock.setTimer(rl.cleanup_interval, purge);
    abort.signal.addEventListener("abort", () => purgeTimer?.cancel(), { once: true });
  };

  return {
    config,
    pool,
    limiter,
    handler,
    limiterView: () => ({
      rate: limiter.rate,
      minRate: ad.min_rate,
      maxRate: ad.max_rate,
      burst: limiter.burst,
      trackedClients: limiter.trackedClients,
      maxClients: limiter.maxClients,
      evictions: limiter.evictions,
    }),
    start(snapshot) {
      startHealth();
      startAdaptive(snapshot);
      startPurge();
    },
    stop() {
      abort.abort();
    },
    get stopped() {
      return Promise.all(loops).then(() => {});
    },
  };
}
