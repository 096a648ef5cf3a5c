/**
 * The composition root: builds a running Aegis from a validated
 * configuration (logger, pool with health checks and breakers, proxy,
 * listener) and takes it down again in order: stop accepting, drain, abort
 * background work, release clients.
 *
 * @module
 */

import { type Clock, systemClock, Watchdog } from "./clock/mod.ts";
import type { Config } from "./config/mod.ts";
import { EventLog } from "./events/mod.ts";
import { httpProbe, type Probe, startHealthLoop } from "./health/mod.ts";
import { type AdaptiveChange, AdaptiveLoop, RateLimiter } from "./limit/mod.ts";
import { createLogger, type Logger } from "./log/mod.ts";
import { GlobalStats } from "./metrics/mod.ts";
import { parseCidr } from "./net/mod.ts";
import { createPool, type Pool } from "./pool/mod.ts";
import {
  type ClosableTransport,
  createProxy,
  fetchTransport,
  rateLimitPhase,
} from "./proxy/mod.ts";
import { type Server, startServer } from "./server/mod.ts";
import { type Snapshot, Snapshotter } from "./snapshot/mod.ts";
import { VERSION } from "./version.ts";

/** Overrides for tests and embedding. */
export interface AegisOptions {
  /** Where logs go; built from `config.logging` by default. */
  readonly logger?: Logger;
  /** How backends are reached; the runtime's `fetch` by default. */
  readonly transport?: ClosableTransport;
  /** Time source for timeouts, breakers, health checks and durations. */
  readonly clock?: Clock;
  /** How health checks probe a backend; HTTP through the transport by default. */
  readonly probe?: Probe;
}

/** A running Aegis. */
export interface Aegis extends AsyncDisposable {
  /** The public listener's address. */
  readonly addr: Deno.NetAddr;
  /** The public listener. */
  readonly server: Server;
  /** The backends and their live state. */
  readonly pool: Pool;
  /** Recent events (health changes, breaker transitions). */
  readonly events: EventLog;
  /** Global counters. */
  readonly stats: GlobalStats;
  /** The per-client rate limiter. */
  readonly limiter: RateLimiter;
  /** The latest snapshot (rebuilt every tick); what every reader uses. */
  snapshot(): Snapshot;
  /** Builds a fresh snapshot now (tests, admin requests that want it current). */
  refreshSnapshot(): Snapshot;
  /** Aborted when Aegis stops; every background loop listens to it. */
  readonly signal: AbortSignal;
  /**
   * Graceful shutdown: stop accepting, let requests in progress finish for up
   * to `server.shutdown_timeout`, abort background work, log
   * `Aegis shutdown complete`. Safe to call more than once.
   */
  shutdown(): Promise<void>;
}

/** Rates and latencies in logs and events, to two decimals. */
function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The sweep period for timeouts: a tenth of the shortest, within 5–250 ms. */
function tickFor(config: Config): number {
  const shortest = Math.min(
    config.server.read_timeout,
    config.server.write_timeout,
    config.server.idle_timeout,
    config.upstream.response_header_timeout,
    config.upstream.read_timeout,
  );
  return Math.min(250, Math.max(5, Math.floor(shortest / 10)));
}

/**
 * Starts Aegis.
 *
 * @throws {Deno.errors.AddrInUse} and other errors binding the listener
 */
export function startAegis(config: Config, options: AegisOptions = {}): Aegis {
  const logger = options.logger ??
    createLogger({ level: config.logging.level, format: config.logging.format });
  const clock = options.clock ?? systemClock;
  const root = new AbortController();
  const watchdog = new Watchdog({ clock, tickMs: tickFor(config) });
  const transport = options.transport ?? fetchTransport();
  const events = new EventLog();
  const stats = new GlobalStats();
  const pool = createPool(config, {
    clock,
    listener: {
      onBreaker(state, t) {
        const fields = { backend: state.id, from: t.from, to: t.to, reason: t.reason };
        const message = `circuit breaker ${t.to.replace("_", "-")} for ${state.id}: ${t.reason}`;
        if (t.to === "open") logger.warn("circuit breaker opened", fields);
        else logger.info("circuit breaker changed", fields);
        events.record("breaker", message, fields);
      },
    },
  });
  const rl = config.rate_limit;
  const limiter = new RateLimiter({
    rate: rl.requests_per_second,
    burst: rl.burst,
    maxClients: rl.max_clients,
    ipv6Prefix: rl.ipv6_prefix,
    exempt: rl.exempt.map((n) => parseCidr(n)!),
    clock,
  });
  const handler = createProxy({
    config,
    pool,
    transport: transport.fetch,
    logger,
    watchdog,
    clock,
    stats,
    phases: [rateLimitPhase(limiter, stats)],
  });

  let server: Server;
  try {
    server = startServer({
      hostname: config.server.host,
      port: config.server.port,
      handler,
      firstRequestTimeoutMs: config.server.read_timeout,
      idleTimeoutMs: config.server.idle_timeout,
      watchdog,
      logger,
    });
  } catch (e) {
    watchdog[Symbol.dispose]();
    transport[Symbol.dispose]();
    throw e;
  }

  // One health loop per backend. Probes go straight to the backend origin
  // (the path is absolute there, whatever prefix the backend URL carries).
  const hc = config.health_check;
  const probe = options.probe ?? httpProbe(transport.fetch, hc.path, hc.timeout);
  const healthLoops = pool.states.map((state) =>
    startHealthLoop({
      baseUrl: state.backend.url.origin,
      intervalMs: hc.interval,
      clock,
      probe,
      signal: root.signal,
      onResult(result) {
        const change = state.observeHealth(result.ok);
        if (!result.ok && logger.enabled("debug")) {
          logger.debug("health check failed", { backend: state.id, detail: result.detail });
        }
        if (!change) return;
        const fields = {
          backend: state.id,
          health: change.to,
          warmup_percent: (change.warmupStep / 4) * 100,
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
    })
  );

  const host = server.addr.hostname.includes(":")
    ? `[${server.addr.hostname}]`
    : server.addr.hostname;
  const listen = `http://${host}:${server.addr.port}`;

  // Snapshots, rebuilt at least as often as anyone reads them.
  const ad = config.adaptive;
  let lastRateChange: (AdaptiveChange & { time: number }) | undefined;
  const snapshots = new Snapshotter({
    version: VERSION,
    listen,
    startedAt: Date.now(),
    pool,
    stats,
    connections: () => ({ active: server.connections, total: server.accepted }),
    limiter: () => ({
      rate: limiter.rate,
      minRate: ad.min_rate,
      maxRate: ad.max_rate,
      burst: limiter.burst,
      trackedClients: limiter.trackedClients,
      maxClients: limiter.maxClients,
      evictions: limiter.evictions,
    }),
    lastRateChange: () => lastRateChange,
    events,
    clock,
  }, Math.min(1000, ad.evaluation_interval, config.tui.refresh_interval));
  snapshots.start(root.signal);

  // The adaptive loop reads the P95 of healthy backends from a fresh snapshot
  // and moves every client's rate at once.
  const adaptive = new AdaptiveLoop({
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
    observe: () => snapshots.tick().healthyP95 ?? undefined,
    apply: (rate) => limiter.setRate(rate),
    onChange(change) {
      lastRateChange = { ...change, time: Date.now() };
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
  adaptive.start(root.signal);

  // Buckets idle long enough to have refilled completely are indistinguishable
  // from new ones: dropping them loses nothing and bounds memory.
  let purgeTimer: { cancel(): void } | undefined;
  const purge = () => {
    const fullAfterMs = (limiter.burst / limiter.rate) * 1000;
    const removed = limiter.purge(Math.max(rl.cleanup_interval, fullAfterMs));
    if (removed > 0 && logger.enabled("debug")) {
      logger.debug("rate limit buckets purged", { removed });
    }
    purgeTimer = clock.setTimer(rl.cleanup_interval, purge);
  };
  purgeTimer = clock.setTimer(rl.cleanup_interval, purge);
  root.signal.addEventListener("abort", () => purgeTimer?.cancel(), { once: true });

  logger.info("Aegis listening", {
    version: VERSION,
    address: listen,
    backends: pool.backends.length,
    algorithm: config.load_balancing.algorithm,
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info("shutting down", {
        connections: server.connections,
        grace_ms: config.server.shutdown_timeout,
      });
      await server.shutdown(config.server.shutdown_timeout);
      root.abort();
      await Promise.all(healthLoops);
      watchdog[Symbol.dispose]();
      transport[Symbol.dispose]();
      logger.info("Aegis shutdown complete");
    })();
    return stopping;
  };

  return {
    addr: server.addr,
    server,
    pool,
    events,
    stats,
    limiter,
    snapshot: () => snapshots.current,
    refreshSnapshot: () => snapshots.tick(),
    signal: root.signal,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
