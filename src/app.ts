/**
 * The composition root. Long-lived parts (listeners, clock, transport,
 * events, counters) are built once; everything derived from the
 * configuration (pool, limiter, proxy, health and adaptive loops) forms a
 * runtime that a reload replaces whole: parse → validate → build new →
 * swap → stop old. Requests in flight finish on the runtime they started
 * on; backends that stay keep their state.
 *
 * @module
 */

import { createAdminHandler, type DrainStatus, type ReloadResult } from "./admin/mod.ts";
import { type Clock, systemClock, Watchdog } from "./clock/mod.ts";
import {
  type Config,
  ConfigFileError,
  formatDiagnostic,
  formatOmitted,
  loadConfigFile,
  parseHostPort,
} from "./config/mod.ts";
import { ADMIN_LIMITS, publicLimits } from "./connection_limits.ts";
import { EventLog } from "./events/mod.ts";
import type { Probe } from "./health/mod.ts";
import { clientKey } from "./limit/mod.ts";
import { createLogger, type Logger, switchableLogger } from "./log/mod.ts";
import { DurationHistograms, GlobalStats } from "./metrics/mod.ts";
import type { Pool } from "./pool/mod.ts";
import { h1Transport } from "./h1/mod.ts";
import { byScheme, fetchTransport } from "./proxy/mod.ts";
import { buildRuntime, type LastRateChange, type Runtime } from "./runtime.ts";
import {
  type ConnectionLimits,
  readDescriptorLimit,
  type Server,
  type ServerOptions,
  startServer,
} from "./server/mod.ts";
import { type Snapshot, Snapshotter } from "./snapshot/mod.ts";
import { VERSION } from "./version.ts";
import { type ClosableTransport } from "./core/mod.ts";

/** Overrides for tests and embedding. */
export interface AegisOptions {
  /** Where logs go; built from `config.logging` by default. */
  readonly logger?: Logger;
  /** How backends are reached; by default the transport `upstream.transport` names (`auto`: h1 for http, fetch for https). */
  readonly transport?: ClosableTransport;
  /** Time source for timeouts, breakers, health checks and durations. */
  readonly clock?: Clock;
  /** How health checks probe a backend; HTTP through the transport by default. */
  readonly probe?: Probe;
  /** The configuration file, re-read by reloads; without it, reload is refused. */
  readonly configPath?: string;
  /** Time limit for parsing and validating the file on reload; 10 s by default. */
  readonly configTimeoutMs?: number;
  /** Start the admin server (default true). */
  readonly admin?: boolean;
  /** The event log to use (the dashboard's logger writes into it); a new one by default. */
  readonly events?: EventLog;
  /** The process's descriptor limit, for `server.max_connections: auto`; read from the system by default. */
  readonly descriptorLimit?: number;
  /**
   * How long an idle keep-alive connection stays open once draining
   * (`DRAIN_IDLE_GRACE_MS` by default); tests that do not study draining
   * shorten it so that every shutdown does not wait for it.
   */
  readonly drainIdleGraceMs?: number;
}

/** A running Aegis. */
export interface Aegis extends AsyncDisposable {
  /** The public listener's address. */
  readonly addr: Deno.NetAddr;
  /** The admin listener's address, when it runs. */
  readonly adminAddr: Deno.NetAddr | undefined;
  /** The public listener. */
  readonly server: Server;
  /** The backends and their live state (the current runtime's). */
  readonly pool: Pool;
  /** Recent events (health changes, breaker transitions, rate changes, reloads). */
  readonly events: EventLog;
  /** Global counters. */
  readonly stats: GlobalStats;
  /** The running configuration. */
  readonly config: Config;
  /** The per-client rate limiter (the current runtime's). */
  readonly limiter: Runtime["limiter"];
  /** The latest snapshot (rebuilt every tick); what every reader uses. */
  snapshot(): Snapshot;
  /** Builds a fresh snapshot now. */
  refreshSnapshot(): Snapshot;
  /** Aborted when Aegis stops; every background loop listens to it. */
  readonly signal: AbortSignal;
  /** Re-reads the configuration file and swaps it in if valid (SIGHUP, `POST /reload`). */
  reload(): Promise<ReloadResult>;
  /** Stops accepting client connections and lets those open finish (`POST /drain`). */
  drain(): void;
  /** Drain progress. */
  drainStatus(): DrainStatus;
  /**
   * Graceful shutdown: stop accepting, let requests in progress finish for up
   * to `server.shutdown_timeout`, abort background work, log
   * `Aegis shutdown complete`. Safe to call more than once.
   */
  shutdown(): Promise<void>;
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

/** Largest response head accepted from a backend by the h1 transport. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** The upstream transport named by `upstream.transport`. */
function transportFor(config: Config): ClosableTransport {
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

function loggerFor(config: Config): Logger {
  return createLogger({ level: config.logging.level, format: config.logging.format });
}

function urlOf(addr: Deno.NetAddr): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `http://${host}:${addr.port}`;
}

/** Settings a running listener cannot take without a restart. */
function fixedChanges(running: Config, next: Config): string[] {
  const out: string[] = [];
  const transportKeys = [
    "transport",
    "connect_timeout",
    "max_connections",
    "max_idle_connections",
    "idle_connection_timeout",
  ] as const;
  for (const k of transportKeys) {
    if (running.upstream[k] !== next.upstream[k]) {
      out.push(`upstream.${k}: the backend connection pools are built at start; restart Aegis`);
    }
  }
  if (running.server.host !== next.server.host || running.server.port !== next.server.port) {
    out.push(
      "server.host/server.port: the public listener cannot move while running; restart Aegis",
    );
  }
  if (running.admin.address !== next.admin.address) {
    out.push("admin.address: the admin listener cannot move while running; restart Aegis");
  }
  return out;
}

/**
 * Starts Aegis.
 *
 * @throws {Deno.errors.AddrInUse} and other errors binding a listener
 */
export function startAegis(initialConfig: Config, options: AegisOptions = {}): Aegis {
  let config = initialConfig;
  const logger = switchableLogger(options.logger ?? loggerFor(config));
  const clock = options.clock ?? systemClock;
  const root = new AbortController();
  const watchdog = new Watchdog({ clock, tickMs: tickFor(config) });
  const transport = options.transport ?? transportFor(config);
  const events = options.events ?? new EventLog();
  const stats = new GlobalStats();
  const durations = new DurationHistograms();
  const rateChange: { last?: LastRateChange } = {};
  const shared = {
    logger,
    clock,
    watchdog,
    transport,
    events,
    stats,
    durations,
    rateChange,
    probe: options.probe,
  };

  let runtime = buildRuntime(config, shared);
  const descriptorLimit = options.descriptorLimit ?? readDescriptorLimit().limit;
  /** Both listeners keep the public listener's connection timeouts. */
  const listenOn = (
    hostname: string,
    port: number,
    handler: ServerOptions["handler"],
    limits: ConnectionLimits,
    rejects?: ServerOptions["rejects"],
  ) =>
    startServer({
      hostname,
      port,
      handler,
      firstRequestTimeoutMs: config.server.read_timeout,
      idleTimeoutMs: config.server.idle_timeout,
      watchdog,
      logger,
      limits,
      // One client per address, IPv6 per network: as the rate limiter counts them.
      clientKey: (ip) => clientKey(ip, config.rate_limit.ipv6_prefix),
      drainIdleGraceMs: options.drainIdleGraceMs,
      rejects,
    });
  let server: Server;
  try {
    // One indirection, so a reload swaps what answers without touching the socket.
    server = listenOn(
      config.server.host,
      config.server.port,
      (request, client) => runtime.handler(request, client),
      publicLimits(config, descriptorLimit, logger),
      stats,
    );
  } catch (e) {
    runtime.stop();
    watchdog[Symbol.dispose]();
    transport[Symbol.dispose]();
    throw e;
  }
  const listen = urlOf(server.addr);

  const snapshots = new Snapshotter({
    version: VERSION,
    listen,
    startedAt: Date.now(),
    get pool() {
      return runtime.pool;
    },
    stats,
    durations,
    connections: () => ({
      active: server.connections,
      total: server.accepted,
      maxConnections: server.limits.maxConnections,
      maxConnectionsPerClient: server.limits.maxPerClient,
      rejected: server.rejected,
      acceptErrors: server.acceptErrors,
    }),
    limiter: () => runtime.limiterView(),
    lastRateChange: () => rateChange.last,
    events,
    clock,
  }, Math.min(1000, config.adaptive.evaluation_interval, config.tui.refresh_interval));
  snapshots.start(root.signal);
  runtime.start(() => snapshots.tick());

  let reloading: Promise<ReloadResult> = Promise.resolve({
    ok: true,
    added: [],
    removed: [],
    kept: [],
  });
  const reload = (): Promise<ReloadResult> => {
    reloading = reloading.then(async (): Promise<ReloadResult> => {
      if (!options.configPath) return { ok: false, problems: ["no configuration file to reload"] };
      const path = options.configPath;
      logger.info("reloading configuration", { file: path });
      let result;
      try {
        // Parsed and validated in a worker: requests, the admin API and
        // signals are served meanwhile; shutdown abandons the load.
        result = await loadConfigFile(path, {
          timeoutMs: options.configTimeoutMs,
          signal: root.signal,
        });
      } catch (e) {
        const problem = e instanceof ConfigFileError ? e.message : String(e);
        logger.error("reload failed", { problem });
        return { ok: false, problems: [problem] };
      }
      if (root.signal.aborted) return { ok: false, problems: ["Aegis is shutting down"] };
      const problems = result.ok
        ? fixedChanges(config, result.config)
        : result.diagnostics.map((d) => formatDiagnostic(path, d));
      const count = problems.length + (result.ok ? 0 : result.omitted);
      const more = result.ok ? undefined : formatOmitted(path, result.omitted);
      if (more) problems.push(more);
      if (!result.ok || problems.length > 0) {
        logger.error("reload refused: the running configuration stays", { problems: count });
        for (const p of problems) logger.error("reload problem", { problem: p });
        events.record("reload", `reload refused (${count} problems)`, { ok: false });
        return { ok: false, problems };
      }
      const next = result.config;
      const before = new Set(runtime.pool.states.map((s) => s.id));
      const after = new Set(next.backends.map((b) => b.url));
      if (
        next.logging.level !== config.logging.level || next.logging.format !== config.logging.format
      ) {
        if (!options.logger) logger.use(loggerFor(next));
      }
      const old = runtime;
      runtime = buildRuntime(next, shared, old);
      runtime.start(() => snapshots.tick());
      config = next;
      server.setLimits(publicLimits(next, descriptorLimit, logger));
      old.stop();
      const added = [...after].filter((id) => !before.has(id));
      const removed = [...before].filter((id) => !after.has(id));
      const kept = [...after].filter((id) => before.has(id));
      logger.info("configuration reloaded", {
        added: added.length,
        removed: removed.length,
        kept: kept.length,
      });
      events.record(
        "reload",
        `configuration reloaded: ${added.length} added, ${removed.length} removed, ${kept.length} kept`,
        { ok: true, added: added.length, removed: removed.length },
      );
      return { ok: true, added, removed, kept };
    });
    return reloading;
  };

  const drainStatus = (): DrainStatus => ({
    draining: server.draining,
    connections: server.connections,
    inFlight: server.requestsInFlight,
  });
  const drain = () => {
    if (server.draining) return;
    logger.info("draining: no new client connections; requests in progress finish", {
      connections: server.connections,
    });
    events.record("drain", "draining started", { connections: server.connections });
    server.shutdown(Infinity).then(() => {
      logger.info("drained: every client connection is closed");
      events.record("drain", "drained", {});
    });
  };

  let admin: Server | undefined;
  if (options.admin ?? true) {
    const where = parseHostPort(config.admin.address)!;
    const adminHandler = createAdminHandler({
      snapshot: () => snapshots.tick(),
      config: () => config,
      get adminListen() {
        return admin ? urlOf(admin.addr) : "";
      },
      reload,
      drain,
      drainStatus,
    }, logger);
    try {
      admin = listenOn(where.host, where.port, (request) => adminHandler(request), ADMIN_LIMITS);
    } catch (e) {
      runtime.stop();
      root.abort();
      server.shutdown(0);
      watchdog[Symbol.dispose]();
      transport[Symbol.dispose]();
      throw Object.assign(e as Error, { listener: "admin" });
    }
  }

  logger.info("Aegis listening", {
    version: VERSION,
    address: listen,
    ...(admin ? { admin: urlOf(admin.addr) } : {}),
    backends: runtime.pool.states.length,
    algorithm: config.load_balancing.algorithm,
    max_connections: server.limits.maxConnections,
    max_connections_per_client: server.limits.maxPerClient,
    descriptor_limit: descriptorLimit,
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info("shutting down", {
        connections: server.connections,
        grace_ms: config.server.shutdown_timeout,
      });
      await server.shutdown(config.server.shutdown_timeout);
      await admin?.shutdown(1000);
      runtime.stop();
      root.abort();
      await runtime.stopped;
      watchdog[Symbol.dispose]();
      transport[Symbol.dispose]();
      logger.info("Aegis shutdown complete");
    })();
    return stopping;
  };

  return {
    addr: server.addr,
    get adminAddr() {
      return admin?.addr;
    },
    server,
    get pool() {
      return runtime.pool;
    },
    events,
    stats,
    get config() {
      return config;
    },
    get limiter() {
      return runtime.limiter;
    },
    snapshot: () => snapshots.current,
    refreshSnapshot: () => snapshots.tick(),
    signal: root.signal,
    reload,
    drain,
    drainStatus,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
