/**
 * What one listener derives from its configuration: its route table (http;
 * or, with `redirect_to_https`, the redirect that answers every request)
 * or its pool (tcp, udp), its address filter, its rate limiter and the
 * adaptive loop that moves it, its connection to the store the fleet
 * shares limits through, and the proxy handler its socket calls. A reload
 * builds a new one from the listener of the same name; the limiter (with
 * every client's bucket) is kept when the listener's `rate_limit` did not
 * change. The store connection is the runtime's own: a reload opens a new
 * one and closes the old.
 *
 * @module
 */

import type { Timer } from "../clock/mod.ts";
import type { ListenerConfig } from "../config/mod.ts";
import { errorResponse, ProxyError, type ProxyHandler } from "../core/mod.ts";
import { type RelayEnd, type RelayStats, type TcpRelay, tcpRelay } from "../l4/mod.ts";
import { AdaptiveLoop, clientKey, type ClientLimiter, RateLimiter } from "../limit/mod.ts";
import type { GlobalStats } from "../metrics/mod.ts";
import { type AddressFilter, addressFilter, parseCidr } from "../net/mod.ts";
import {
  createProxy,
  httpsRedirectPhase,
  type Phase,
  rateLimitPhase,
  type Router,
  SessionRegistry,
  type Upstream,
  webSocketLeg,
} from "../proxy/mod.ts";
import { compileRoutes } from "../routing/mod.ts";
import type { LimiterSnapshot, Snapshot } from "../snapshot/mod.ts";
import type { PoolRuntime } from "./pool_runtime.ts";
import type { Shared } from "./shared.ts";
import { type SharedLimits, startSharedLimits } from "./shared_limits.ts";

/** One listener, running (its socket aside: the lifecycle owns that). */
export interface ListenerRuntime {
  /** The listener's name. */
  readonly name: string;
  readonly config: ListenerConfig;
  /** The per-client rate limiter (over shared buckets in a worker isolate of several). */
  readonly limiter: ClientLimiter;
  /** Its open WebSocket sessions and their caps (http listeners; kept across reloads). */
  readonly sessions: SessionRegistry;
  /** Answers its requests (http listeners). */
  readonly handler: ProxyHandler;
  /** [SECURITY] Its `allow` and `deny` networks: whether a client address may connect. */
  readonly admits: AddressFilter;
  /**
   * Why a new connection (tcp) or datagram (udp) from `ip` is refused, if it
   * is: a denied address, or (L4 listeners, whose rate limit counts
   * connections and datagrams rather than requests) an empty bucket.
   */
  screen(ip: string): "denied" | "rate_limited" | undefined;
  /** The pool a tcp or udp listener forwards to; absent for http listeners. */
  readonly pool?: PoolRuntime;
  /** Relays a tcp listener's connections to its pool; absent for the others. */
  readonly relay?: TcpRelay;
  /** The pools its routes reach, in route order: its adaptive loop watches their backends. */
  readonly pools: readonly string[];
  /** The limiter as a snapshot shows it. */
  limiterView(): Omit<LimiterSnapshot, "lastChange">;
  /** Starts the adaptive loop, bucket purging and shared limits; `snapshot` builds a fresh snapshot. */
  start(snapshot: () => Snapshot): void;
  /** Stops them. */
  stop(): void;
  /** Settles once stopped and its store connection, if any, is closed. */
  readonly stopped: Promise<void>;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * The listener's routes as a router: most specific first, then declared
 * order (`routing/`); each route leads to its pool's upstream.
 */
function routerOf(config: ListenerConfig, pools: ReadonlyMap<string, PoolRuntime>): Router {
  const table = compileRoutes<Upstream>((config.routes ?? []).map((r) => ({
    host: r.match?.host,
    pathPrefix: r.match?.path_prefix,
    methods: r.match?.methods,
    stripPrefix: r.strip_prefix,
    // Configuration checks guarantee the pool exists.
    target: pools.get(r.pool)!.upstream,
  })));
  return (method, authority, path) => {
    const hit = table.match(method, authority, path);
    return hit && { upstream: hit.route.target, path: hit.path };
  };
}

/** Builds a listener; `previous` is the listener of the same name being replaced. */
export function buildListenerRuntime(
  config: ListenerConfig,
  pools: ReadonlyMap<string, PoolRuntime>,
  shared: Shared,
  previous?: ListenerRuntime,
): ListenerRuntime {
  const { logger, clock, events } = shared;
  const { name } = config;
  const stats = shared.stats.get(name);
  const rl = config.rate_limit;
  const ad = config.adaptive;
  const sameLimits = previous !== undefined &&
    JSON.stringify(previous.config.rate_limit) === JSON.stringify(rl);
  const { controlled } = shared;
  const limiter: ClientLimiter = sameLimits
    ? previous.limiter
    : controlled
    ? controlled.limiterFor(config)
    : new RateLimiter({
      rate: rl.requests_per_second,
      burst: rl.burst,
      maxClients: rl.max_clients,
      ipv6Prefix: rl.ipv6_prefix,
      exempt: rl.exempt.map((n) => parseCidr(n)!),
      clock,
      countAdmissions: rl.store.type !== "local",
    });
  // New adaptive bounds apply to the rate in force at once (by the control isolate, when shared).
  const bounded = Math.min(ad.max_rate, Math.max(ad.min_rate, limiter.rate));
  const mine = controlled?.controls ?? true;
  if (mine && bounded !== limiter.rate) limiter.setRate(bounded);

  const l4 = config.protocol !== "http";
  const ws = config.websocket;
  // Sessions open now stay counted against the caps a reload sets.
  const sessions = previous?.sessions ?? new SessionRegistry(0, 0);
  sessions.setCaps(ws?.max_connections ?? 0, ws?.max_connections_per_client ?? 0);
  const webSocket = ws?.enabled
    ? webSocketLeg({
      settings: ws,
      registry: sessions,
      clientKey: (ip) => clientKey(ip, rl.ipv6_prefix),
      stats: shared.webSockets,
      listener: name,
      logger,
      watchdog: shared.watchdog,
    })
    : undefined;
  const phases: Phase[] = [rateLimitPhase(limiter, stats)];
  // A redirect listener is a proxy whose last phase answers every request.
  if (config.redirect_to_https !== undefined) {
    phases.push(httpsRedirectPhase(config.redirect_to_https, stats));
  }
  const handler = l4 ? notHttp(name) : createProxy({
    listener: config,
    route: routerOf(config, pools),
    logger,
    watchdog: shared.watchdog,
    clock,
    stats,
    durations: shared.durations,
    phases,
    tracer: shared.tracer,
    ...(webSocket ? { webSocket } : {}),
  });
  const admits = addressFilter(
    config.allow.map((n) => parseCidr(n)!),
    config.deny.map((n) => parseCidr(n)!),
  );
  const relay = config.protocol === "tcp"
    ? relayOf(config, pools.get(config.pool!)!, shared)
    : undefined;
  const screen = (ip: string) => {
    if (!admits(ip)) return "denied" as const;
    if (l4 && !limiter.check(ip).allowed) {
      stats.rateLimited++;
      return "rate_limited" as const;
    }
    return undefined;
  };

  const abort = new AbortController();
  let purgeTimer: Timer | undefined;
  let sharedLimits: SharedLimits | undefined;
  let stopped = Promise.resolve();

  const startAdaptive = (snapshot: () => Snapshot) => {
    // The adaptive loop reads the P95 of the healthy backends this
    // listener's routes reach, from a fresh snapshot, and moves every
    // client's rate at once.
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
      observe: () => snapshot().listeners.find((l) => l.name === name)?.healthyP95 ?? undefined,
      apply: (rate) => limiter.setRate(rate),
      onChange(change) {
        shared.rateChanges.set(name, { ...change, time: Date.now() });
        const fields = {
          listener: name,
          from: round(change.from),
          to: round(change.to),
          p95_ms: round(change.p95),
          reason: change.reason,
        };
        logger.info("rate limit adjusted", fields);
        events.record(
          "rate",
          `${name}: rate ${fields.from} → ${fields.to} req/s (P95 ${fields.p95_ms} ms, ${change.reason})`,
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
        logger.debug("rate limit buckets purged", { listener: name, removed });
      }
      purgeTimer = clock.setTimer(rl.cleanup_interval, purge);
    };
    purgeTimer = clock.setTimer(rl.cleanup_interval, purge);
    abort.signal.addEventListener("abort", () => purgeTimer?.cancel(), { once: true });
  };

  return {
    name,
    config,
    limiter,
    sessions,
    handler,
    admits,
    screen,
    ...(config.pool !== undefined ? { pool: pools.get(config.pool)! } : {}),
    ...(relay ? { relay } : {}),
    pools: config.pool !== undefined
      ? [config.pool]
      : [...new Set((config.routes ?? []).map((r) => r.pool))],
    limiterView: () => ({
      rate: limiter.rate,
      minRate: ad.min_rate,
      maxRate: ad.max_rate,
      burst: limiter.burst,
      trackedClients: limiter.trackedClients,
      maxClients: limiter.maxClients,
      evictions: limiter.evictions,
      ...(sharedLimits ? { store: sharedLimits.view() } : {}),
    }),
    start(snapshot) {
      // Shared buckets are the control isolate's to move and purge.
      if (!mine) return;
      startAdaptive(snapshot);
      startPurge();
      if (limiter instanceof RateLimiter) {
        sharedLimits = startSharedLimits(config, limiter, shared);
      }
    },
    stop() {
      abort.abort();
      if (sharedLimits) stopped = Promise.resolve(sharedLimits[Symbol.asyncDispose]());
    },
    get stopped() {
      return stopped;
    },
  };
}

/** The handler of a tcp or udp listener: never called, since its socket speaks no HTTP. */
function notHttp(name: string): ProxyHandler {
  return () =>
    Promise.resolve(errorResponse(new ProxyError("internal", `listener ${name} is not http`)));
}

/** How a tcp connection ended when it was refused rather than relayed: counted as a reject. */
const REFUSED: ReadonlySet<RelayEnd> = new Set<RelayEnd>([
  "no_backend",
  "proxy_header_refused",
  "proxy_header_invalid",
  "proxy_header_timeout",
]);

/** Counts a tcp listener's bytes for it and for each backend, and its refusals by why. */
function relayStats(stats: GlobalStats): RelayStats {
  return {
    onOpen() {},
    onBytes(toBackend, toClient, backend) {
      stats.bytesIn += toBackend;
      stats.bytesOut += toClient;
      backend.stats.bytesOut += toBackend;
      backend.stats.bytesIn += toClient;
    },
    onClose(outcome) {
      if (REFUSED.has(outcome.end)) stats.recordReject(outcome.end);
    },
  };
}

/**
 * The relay of a tcp listener: its pool's connect timeout, retries and
 * PROXY protocol; the listener's idle timeout, and its `read_timeout` for
 * the PROXY header trusted networks must send.
 */
function relayOf(config: ListenerConfig, pool: PoolRuntime, shared: Shared): TcpRelay {
  const trusted = addressFilter(config.accept_proxy_protocol.map((n) => parseCidr(n)!), []);
  const sends = pool.config.upstream.proxy_protocol;
  return tcpRelay({
    pool: pool.pool,
    poolName: pool.name,
    connectTimeoutMs: pool.config.upstream.connect_timeout,
    retries: pool.config.retries.attempts,
    idleTimeoutMs: config.idle_timeout,
    ...(sends === "off" ? {} : { proxyProtocol: sends }),
    // [SECURITY] Only listed networks may say who the client is.
    ...(config.accept_proxy_protocol.length > 0 ? { acceptProxyFrom: trusted } : {}),
    headerTimeoutMs: config.read_timeout,
    clock: shared.clock,
    logger: shared.logger,
    events: shared.events,
    stats: relayStats(shared.stats.get(config.name)),
  });
}
