/**
 * The composition root: builds the parts of a running Aegis and hands them
 * to the lifecycle in order. What each part is lives elsewhere:
 * `lifecycle/` (ordered start, one disposal stack, listeners, the runtime
 * a reload swaps, drain), `reload/` (the plan between two configurations
 * and the reloader that applies it), `runtime.ts` (what one configuration
 * derives). This file only decides what is built from what, and in which
 * order; the order of start is the order of stop reversed.
 *
 * @module
 */

import type { Aegis, AegisOptions } from "./aegis.ts";
import { createAdminHandler } from "./admin/mod.ts";
import { systemClock, Watchdog } from "./clock/mod.ts";
import { type Config, DEFAULT_NAME, parseHostPort } from "./config/mod.ts";
import { ADMIN_LIMITS, listenerLimits } from "./connection_limits.ts";
import { EventLog } from "./events/mod.ts";
import {
  CurrentRuntime,
  drainControl,
  Lifecycle,
  type Listener,
  type ListenerOptions,
  loggerFor,
  openListener,
  tickFor,
} from "./lifecycle/mod.ts";
import { clientKey } from "./limit/mod.ts";
import { switchableLogger } from "./log/mod.ts";
import { DurationHistograms, GlobalStats } from "./metrics/mod.ts";
import { createReloader } from "./reload/mod.ts";
import {
  buildRuntime,
  type LastRateChange,
  Retirements,
  type Shared,
  transportFor,
} from "./runtime/mod.ts";
import { readDescriptorLimit } from "./server/mod.ts";
import { type SnapshotSources, Snapshotter } from "./snapshot/mod.ts";
import { VERSION } from "./version.ts";

// The contract is in aegis.ts; main.ts and the tests import it from here, with startAegis.
export type { Aegis, AegisOptions } from "./aegis.ts";

/** How long the admin listener's requests in progress get at stop, after the public drain. */
const ADMIN_CLOSE_GRACE_MS = 1000;

/**
 * Why this build cannot serve `config` yet, or `undefined` when it can: one
 * listener (with any routes and pools) until the lifecycle opens several.
 */
export function unservable(config: Config): string | undefined {
  return config.listeners.length === 1
    ? undefined
    : "this build serves one listener; several arrive with the lifecycle that opens them";
}

/** What snapshots read: the runtime in force, the public listener, the counters. */
function snapshotSources(
  shared: Shared,
  current: CurrentRuntime,
  publicListener: Listener,
): SnapshotSources {
  const { server } = publicListener;
  return {
    version: VERSION,
    startedAt: Date.now(),
    pools: () => [...current.runtime.pools].map(([name, p]) => [name, p.pool] as const),
    listeners: () =>
      [...current.runtime.listeners.values()].map((l) => ({
        name: l.name,
        url: publicListener.url,
        pools: l.pools,
        limiter: () => l.limiterView(),
        lastRateChange: () => shared.rateChanges.get(l.name),
      })),
    stats: shared.stats,
    durations: shared.durations,
    connections: () => ({
      active: server.connections,
      total: server.accepted,
      maxConnections: server.limits.maxConnections,
      maxConnectionsPerClient: server.limits.maxPerClient,
      rejected: server.rejected,
      acceptErrors: server.acceptErrors,
    }),
    events: shared.events,
    clock: shared.clock,
  };
}

/**
 * Starts Aegis: transport, watchdog, public listener, snapshots, runtime
 * loops, admin listener, in that order. Stop undoes it in reverse, after
 * draining the public listener first: the admin API answers and the loops
 * run until the last client request is done. A part that fails to start
 * undoes the parts started before it.
 *
 * @throws {Deno.errors.AddrInUse} and other errors binding a listener,
 * tagged with `listener: "public"` or `listener: "admin"`
 */
export function startAegis(initialConfig: Config, options: AegisOptions = {}): Aegis {
  const refusal = unservable(initialConfig);
  if (refusal) throw new Error(refusal);
  const front = initialConfig.listeners[0]!;
  const limitsOf = (config: Config) =>
    listenerLimits(config, descriptorLimit, logger).get(config.listeners[0]!.name)!;
  const logger = switchableLogger(options.logger ?? loggerFor(initialConfig));
  const clock = options.clock ?? systemClock;
  const events = options.events ?? new EventLog();
  const stats = new GlobalStats();
  const durations = new DurationHistograms();
  const rateChanges = new Map<string, LastRateChange>();
  const descriptorLimit = options.descriptorLimit ?? readDescriptorLimit().limit;
  // Aborted at stop, once the drain and the admin listener are done.
  const root = new AbortController();
  const life = new Lifecycle({
    onUndoError: (e) => logger.error("cleanup after a failed start failed", { error: String(e) }),
  });

  // A transport given from outside serves every pool and is closed last;
  // otherwise each pool builds its own, closed when the pool goes away.
  const given = options.transport && life.start(() => options.transport!);
  const retired = life.start(() => new Retirements(clock));
  const watchdog = life.start(() => new Watchdog({ clock, tickMs: tickFor(initialConfig) }));
  const shared: Shared = {
    logger,
    clock,
    watchdog,
    events,
    stats,
    durations,
    rateChanges,
    probe: options.probe,
    transportFor: (pool) =>
      given ? { transport: given, owned: false } : { transport: transportFor(pool), owned: true },
    retired,
  };
  // Built now for its handler; its loops start below, once snapshots exist.
  const current = new CurrentRuntime(initialConfig, (c, prev) => buildRuntime(c, shared, prev));

  /** Both listeners keep the public listener's connection timeouts. */
  const listenerOptions = {
    firstRequestTimeoutMs: front.read_timeout,
    idleTimeoutMs: front.idle_timeout,
    watchdog,
    logger,
    // One client per address, IPv6 per network: as the rate limiter counts them.
    clientKey: (ip: string) => clientKey(ip, current.config.listeners[0]!.rate_limit.ipv6_prefix),
    drainIdleGraceMs: options.drainIdleGraceMs,
  } satisfies Partial<ListenerOptions>;

  const where = parseHostPort(front.address)!;
  const publicListener = life.start(() =>
    openListener({
      ...listenerOptions,
      name: front.name,
      hostname: where.host,
      port: where.port,
      handler: current.handlerFor(front.name),
      limits: limitsOf(initialConfig),
      rejects: stats,
      // Drained with the shutdown grace before anything is disposed.
      closeGraceMs: 0,
    })
  );
  const server = publicListener.server;

  const snapshots = life.start(() => {
    const s = new Snapshotter(
      snapshotSources(shared, current, publicListener),
      Math.min(1000, front.adaptive.evaluation_interval, initialConfig.tui.refresh_interval),
    );
    s.start(root.signal);
    return s;
  });
  life.start(() => current.start(() => snapshots.tick()));
  // Before the loops stop: a reload that finishes loading now is not applied.
  life.defer(() => root.abort());

  const reload = createReloader({
    path: options.configPath,
    timeoutMs: options.configTimeoutMs,
    signal: root.signal,
    logger,
    events,
    running: () => current.config,
    apply(plan) {
      const { opened, closed, moved } = plan.listeners;
      const stay = unservable(plan.next) ??
        (opened.length + closed.length + moved.length > 0
          ? "listeners cannot be opened, closed or moved while running yet; restart Aegis"
          : undefined);
      if (stay) return [stay];
      if (plan.newLogger && !options.logger) logger.use(loggerFor(plan.next));
      current.replace(plan.next);
      server.setLimits(limitsOf(plan.next));
      return [];
    },
  });
  const drain = drainControl(publicListener, logger, events);

  let admin: Listener | undefined;
  if (options.admin ?? true) {
    const adminWhere = parseHostPort(initialConfig.admin.address)!;
    const adminHandler = createAdminHandler({
      snapshot: () => snapshots.tick(),
      config: () => current.config,
      get adminListen() {
        return admin?.url ?? "";
      },
      reload,
      drain: drain.drain,
      drainStatus: drain.status,
    }, logger);
    admin = life.start(() =>
      openListener({
        ...listenerOptions,
        name: "admin",
        hostname: adminWhere.host,
        port: adminWhere.port,
        handler: (request) => adminHandler(request),
        limits: ADMIN_LIMITS,
        closeGraceMs: ADMIN_CLOSE_GRACE_MS,
      })
    );
  }
  // Registered last, so it is the first thing stop does: client requests
  // finish while everything they use still runs.
  life.defer(() => publicListener.drain(current.config.server.shutdown_timeout));

  logger.info("Aegis listening", {
    version: VERSION,
    address: publicListener.url,
    ...(admin ? { admin: admin.url } : {}),
    pools: current.runtime.pools.size,
    backends: [...current.runtime.pools.values()].reduce((n, p) => n + p.pool.states.length, 0),
    max_connections: server.limits.maxConnections,
    max_connections_per_client: server.limits.maxPerClient,
    descriptor_limit: descriptorLimit,
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info("shutting down", {
        connections: server.connections,
        grace_ms: current.config.server.shutdown_timeout,
      });
      await life.stop();
      logger.info("Aegis shutdown complete");
    })();
    return stopping;
  };

  return {
    addr: publicListener.addr,
    get adminAddr() {
      return admin?.addr;
    },
    server,
    get pools() {
      return new Map([...current.runtime.pools].map(([name, p]) => [name, p.pool]));
    },
    get pool() {
      const { pools } = current.runtime;
      return (pools.get(DEFAULT_NAME) ?? pools.values().next().value!).pool;
    },
    events,
    stats,
    get config() {
      return current.config;
    },
    get limiter() {
      return current.runtime.listeners.values().next().value!.limiter;
    },
    snapshot: () => snapshots.current,
    refreshSnapshot: () => snapshots.tick(),
    signal: root.signal,
    reload,
    drain: drain.drain,
    drainStatus: drain.status,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
