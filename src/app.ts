/**
 * The composition root: builds the parts of a running Aegis and hands them
 * to the lifecycle in order. What each part is lives elsewhere:
 * `lifecycle/` (ordered start, one disposal stack, the listeners, the
 * runtime a reload swaps, drain), `reload/` (the plan between two
 * configurations and the reloader that applies it), `runtime/` (what one
 * configuration derives, per pool and per listener). This file only decides
 * what is built from what, and in which order; the order of start is the
 * order of stop reversed.
 *
 * @module
 */

import type { Aegis, AegisOptions } from "./aegis.ts";
import { systemClock, Watchdog } from "./clock/mod.ts";
import { type Config, DEFAULT_NAME, parseHostPort } from "./config/mod.ts";
import { listenerLimits } from "./connection_limits.ts";
import { EventLog } from "./events/mod.ts";
import {
  applyPlan,
  CurrentRuntime,
  drainControl,
  Lifecycle,
  type Listener,
  type ListenerOptions,
  ListenerSet,
  loggerFor,
  openAdminListeners,
  type OpenListener,
  openListener,
  openTcpListener,
  openUdpListener,
  snapshotSources,
  tickFor,
} from "./lifecycle/mod.ts";
import { clientKey } from "./limit/mod.ts";
import { switchableLogger } from "./log/mod.ts";
import { DurationHistograms, StatsByName, WebSocketStats } from "./metrics/mod.ts";
import { createReloader } from "./reload/mod.ts";
import {
  buildRuntime,
  type LastRateChange,
  Retirements,
  type Shared,
  transportFor,
} from "./runtime/mod.ts";
import { readDescriptorLimit } from "./server/mod.ts";
import { SnapshotHistory, Snapshotter } from "./snapshot/mod.ts";
import { Tracing } from "./tracing/mod.ts";
import { VERSION } from "./version.ts";

// The contract is in aegis.ts; main.ts and the tests import it from here, with startAegis.
export type { Aegis, AegisOptions, ListenerView } from "./aegis.ts";

/**
 * Starts Aegis: transports, watchdog, every listener, snapshots, runtime
 * loops, admin listener, metrics listener, in that order. Stop undoes it in reverse, after
 * draining the listeners first: the admin API answers and the loops run
 * until the last client request is done. A part that fails to start undoes
 * the parts started before it.
 *
 * @throws {Deno.errors.AddrInUse} and other errors binding a listener,
 * tagged with the listener's name (`listenerOf`), `ADMIN_LISTENER` or
 * `METRICS_LISTENER`
 */
export function startAegis(initialConfig: Config, options: AegisOptions = {}): Aegis {
  const logger = switchableLogger(options.logger ?? loggerFor(initialConfig));
  const clock = options.clock ?? systemClock;
  const events = options.events ?? new EventLog();
  const stats = new StatsByName();
  const descriptorLimit = options.descriptorLimit ?? readDescriptorLimit().limit;
  const limitsOf = (config: Config) => listenerLimits(config, descriptorLimit, logger);
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
  // Stopped after the drain: the last requests' spans are flushed too.
  const tracing = life.start(() => new Tracing({ clock, logger }));
  const tracingReady = tracing.configure(initialConfig.tracing);
  const shared: Shared = {
    logger,
    clock,
    watchdog,
    events,
    stats,
    durations: new DurationHistograms(),
    rateChanges: new Map<string, LastRateChange>(),
    webSockets: new WebSocketStats(),
    probe: options.probe,
    transportFor: (pool) =>
      given ? { transport: given, owned: false } : { transport: transportFor(pool), owned: true },
    retired,
    tracer: () => tracing.tracer,
    controlled: options.controlled,
  };
  // Built now for its handlers; its loops start below, once snapshots exist.
  const current = new CurrentRuntime(initialConfig, (c, prev) => buildRuntime(c, shared, prev));

  const first = initialConfig.listeners[0]!;
  /** What every listener shares. */
  const common = {
    firstRequestTimeoutMs: first.read_timeout,
    idleTimeoutMs: first.idle_timeout,
    watchdog,
    logger,
    drainIdleGraceMs: options.drainIdleGraceMs,
  } satisfies Partial<ListenerOptions>;
  /** One client per address, IPv6 per network: as the listener's rate limiter counts them. */
  const prefixOf = (name: string) =>
    current.config.listeners.find((l) => l.name === name)?.rate_limit.ipv6_prefix ?? 64;
  const l4Parts = { runtime: () => current.runtime, shared, reusePort: options.reusePort };
  const open: OpenListener = (config, limits) => {
    if (config.protocol === "udp") return openUdpListener(config, l4Parts);
    if (config.protocol === "tcp") {
      const clientKeyOf = (ip: string) => clientKey(ip, prefixOf(config.name));
      return openTcpListener(config, limits, { ...l4Parts, clientKey: clientKeyOf });
    }
    const where = parseHostPort(config.address)!;
    return openListener({
      ...common,
      name: config.name,
      hostname: where.host,
      port: where.port,
      firstRequestTimeoutMs: config.read_timeout,
      idleTimeoutMs: config.idle_timeout,
      clientKey: (ip: string) => clientKey(ip, prefixOf(config.name)),
      // [SECURITY] The listener's allow and deny networks, as the runtime in force has them.
      screen: (ip: string) => current.runtime.listeners.get(config.name)?.screen(ip),
      handler: current.handlerFor(config.name),
      webSocket: () =>
        current.config.listeners.find((l) => l.name === config.name)?.websocket?.enabled ?? false,
      upgradeGraceMs: () => current.config.server.shutdown_timeout,
      limits,
      rejects: stats.get(config.name),
      tls: config.tls,
      events,
      // Drained with the shutdown grace before anything is disposed.
      closeGraceMs: 0,
      reusePort: options.reusePort,
    });
  };
  const listeners = life.start(() =>
    new ListenerSet(initialConfig, limitsOf(initialConfig), { open, logger })
  );

  const history = new SnapshotHistory();
  const snapshots = life.start(() => {
    const s = new Snapshotter(
      snapshotSources({
        version: VERSION,
        shared,
        current,
        listeners,
        tracing: tracing.counters,
      }),
      Math.min(
        1000,
        initialConfig.tui.refresh_interval,
        ...initialConfig.listeners.map((l) => l.adaptive.evaluation_interval),
      ),
      history,
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
    load: options.loadConfig,
    signal: root.signal,
    logger,
    events,
    running: () => current.config,
    apply: async (plan) => {
      const problems = await applyPlan(plan, {
        listeners,
        current,
        limits: limitsOf(plan.next),
        useLogger: options.logger ? undefined : (next) => logger.use(loggerFor(next)),
      });
      if (problems.length === 0) await tracing.configure(plan.next.tracing);
      return problems;
    },
  });
  const drain = drainControl(listeners, logger, events);

  let admin: Listener | undefined;
  let metrics: Listener | undefined;
  if (options.admin ?? true) {
    const opened = openAdminListeners({
      config: initialConfig,
      control: {
        snapshot: () => snapshots.tick(),
        history: () => history.points(),
        config: () => current.config,
        reload,
        drain: drain.drain,
        drainStatus: drain.status,
      },
      logger,
      watchdog,
      drainIdleGraceMs: options.drainIdleGraceMs,
      start: (open) => life.start(open),
    });
    ({ admin, metrics } = opened);
    // Just before the admin listener closes: open dashboard streams end
    // then, so its close does not wait out its grace for them.
    life.defer(() => opened.closing());
  }
  // Registered last, so it is the first thing stop does: client requests
  // finish while everything they use still runs.
  life.defer(() => listeners.drain(current.config.server.shutdown_timeout));

  const firstServer = listeners.live[0]!.server;
  const pools = [...current.runtime.pools.values()];
  const announce = () =>
    logger.info("Aegis listening", {
      version: VERSION,
      address: listeners.live[0]!.url,
      listeners: Object.fromEntries(listeners.live.map((l) => [l.name, l.url])),
      ...(admin ? { admin: admin.url } : {}),
      ...(metrics ? { metrics: metrics.url } : {}),
      pools: pools.length,
      backends: pools.reduce((n, p) => n + p.pool.states.length, 0),
      max_connections: firstServer.limits.maxConnections,
      max_connections_per_client: firstServer.limits.maxPerClient,
      descriptor_limit: descriptorLimit,
    });
  // udp sockets bind asynchronously: announced once they are bound, never if one fails.
  if (listeners.live.some((l) => l.protocol === "udp")) listeners.ready.then(announce, () => {});
  else announce();

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info("shutting down", {
        connections: listeners.connections,
        grace_ms: current.config.server.shutdown_timeout,
      });
      await life.stop();
      logger.info("Aegis shutdown complete");
    })();
    return stopping;
  };

  return {
    // Tracing is ready once its exporter is built (the SDK loads on first use).
    ready: Promise.all([listeners.ready, tracingReady]).then(() => {}),
    get addr() {
      return listeners.live[0]!.addr;
    },
    get adminAddr() {
      return admin?.addr;
    },
    get metricsAddr() {
      return metrics?.addr;
    },
    get server() {
      return listeners.live[0]!.server;
    },
    get listeners() {
      return new Map(
        listeners.live.map((l) => [l.name, { addr: l.addr, url: l.url, server: l.server }]),
      );
    },
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
    history: () => history.points(),
    signal: root.signal,
    reload,
    drain: drain.drain,
    drainStatus: drain.status,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
