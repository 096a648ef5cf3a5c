/**
 * The control isolate of `server.workers` above 1: it starts N worker
 * isolates (`worker_main.ts`), each serving every http and tcp listener on
 * its own `SO_REUSEPORT` socket, and runs everything the process must do
 * once.
 *
 * **The seam.** A worker runs the same `startAegis` a single isolate runs;
 * what differs is handed to it (`ControlledParts`, `AegisOptions`):
 *
 * | state | where | why |
 * | --- | --- | --- |
 * | sockets, connections, per-connection state | each worker | the kernel spreads connections over the workers' sockets |
 * | pools' backend connections, transports | each worker | a connection belongs to one isolate; N workers hold up to N× `upstream.max_connections` |
 * | breakers | shared memory | one set of cells per backend under a lock: every worker's failures count toward one threshold, a half-open probe slot is taken once for the process (`breaker/breaker.ts`) |
 * | client buckets | shared memory | one `SharedArrayBuffer` table per listener, spent under a lock per slot (`limit/shared_buckets.ts`) |
 * | adaptive rate, bucket purge | control | its listener runtimes run them over the same tables, reading the merged snapshot |
 * | health checks | control | it probes once per backend and sends health changes to the workers |
 * | metrics views | control | it merges the workers' snapshots (`merge.ts`) for `/metrics`, `/status`, `/stream`, the dashboards |
 * | admin and metrics listeners, reload, drain, shutdown | control | one API for the process |
 *
 * **Lifecycle.** The first worker binds first; listeners asked on port 0
 * are then pinned to the port it got, so the others bind the same one. A
 * reload is read and planned here (a change of `server.workers` is refused
 * there), applied by the first worker, then by the others. Drain and
 * shutdown reach every worker; shutdown waits for all of them (each
 * drains its own requests within `server.shutdown_timeout`). A worker that
 * dies (an uncaught error, or terminated) is logged, recorded as a
 * `worker` event and replaced with the configuration in force; only the
 * requests it was serving fail.
 *
 * @module
 */

import type { DrainStatus, ReloadResult } from "../admin/mod.ts";
import type { Aegis } from "../aegis.ts";
import { type Clock, systemClock, type Timer, Watchdog } from "../clock/mod.ts";
import type { Config } from "../config/mod.ts";
import { EventLog } from "../events/mod.ts";
import type { Probe } from "../health/mod.ts";
import {
  type AdminListeners,
  CurrentRuntime,
  loggerFor,
  openAdminListeners,
  tickFor,
} from "../lifecycle/mod.ts";
import type { Logger } from "../log/mod.ts";
import { DurationHistograms, StatsByName, WebSocketStats } from "../metrics/mod.ts";
import { createReloader } from "../reload/mod.ts";
import {
  buildRuntime,
  type LastRateChange,
  Retirements,
  type Shared,
  transportFor,
} from "../runtime/mod.ts";
import {
  buildSnapshot,
  type ConnectionsSource,
  type Snapshot,
  SnapshotHistory,
} from "../snapshot/mod.ts";
import { readDescriptorLimit } from "../server/mod.ts";
import { VERSION } from "../version.ts";
import { controlledParts, healthOf, pinPorts, SharedTables } from "./_memory.ts";
import { mergeSnapshots } from "./merge.ts";
import { type BackendHealth, type BoundListener, REPORT_EVERY_MS } from "./protocol.ts";
import { WorkerHandle } from "./worker_handle.ts";

/** A worker that dies this soon after it started is replaced only after {@linkcode RESPAWN_BACKOFF_MS}. */
const QUICK_DEATH_MS = 5000;
/** How long a worker that keeps dying waits before its next replacement. */
const RESPAWN_BACKOFF_MS = 1000;
/** Beyond the shutdown grace, how long stop waits for a worker before ending it. */
const STOP_MARGIN_MS = 5000;

/** Options for {@linkcode startWorkers}. */
export interface WorkersOptions {
  /** Where the control logs; built from `config.logging` by default. */
  readonly logger?: Logger;
  /** The control's event log (the dashboard reads it); a new one by default. */
  readonly events?: EventLog;
  /** The configuration file reloads re-read; without it, reload is refused. */
  readonly configPath?: string;
  /** Time limit for parsing and validating the file on reload. */
  readonly configTimeoutMs?: number;
  /** Start the admin listener (and metrics listener when configured); default true. */
  readonly admin?: boolean;
  /** As `AegisOptions.drainIdleGraceMs`, for every worker. */
  readonly drainIdleGraceMs?: number;
  /** Workers log into their event logs rather than stdout (the terminal dashboard is on). */
  readonly logToEvents?: boolean;
  /** How the control's health checks probe a backend; HTTP through the pool's transport by default. */
  readonly probe?: Probe;
  /** Time source of the control's loops (health checks, adaptive rate, snapshots). */
  readonly clock?: Clock;
  /** The process's descriptor limit, split between the workers; read from the system by default. */
  readonly descriptorLimit?: number;
}

/** What main.ts and the tests use of a running Aegis, whether one isolate or several. */
export type RunningAegis = Pick<
  Aegis,
  | "ready"
  | "adminAddr"
  | "metricsAddr"
  | "events"
  | "config"
  | "snapshot"
  | "refreshSnapshot"
  | "history"
  | "signal"
  | "reload"
  | "drain"
  | "drainStatus"
  | "shutdown"
  | typeof Symbol.asyncDispose
>;

/** A running control isolate and its workers. */
export interface Workers extends RunningAegis {
  /** How many workers serve. */
  readonly count: number;
  /** Every listener's bound address, by name (known once `ready`). */
  readonly listeners: ReadonlyMap<string, BoundListener>;
  /** Each worker's latest snapshot, by index; `undefined` before its first report. */
  workerSnapshots(): ReadonlyArray<Snapshot | undefined>;
  /** Workers started to replace dead ones, since start. */
  readonly replaced: number;
  /**
   * Ends worker `index` at once, as a crash would (its connections close,
   * its requests in flight fail); it is replaced like any dead worker. For
   * tests and for an operator's last resort.
   */
  killWorker(index: number): void;
}

/** Connections of a listener that serves nothing itself: the control's own view. */
const NO_CONNECTIONS: ConnectionsSource = Object.freeze({
  active: 0,
  total: 0,
  maxConnections: 0,
  maxConnectionsPerClient: 0,
  rejected: Object.freeze({ max_connections: 0, per_client: 0, denied: 0, rate_limited: 0 }),
  acceptErrors: 0,
});

/**
 * Starts `count` workers serving `config`, and the control parts: admin
 * listener, health checks, adaptive loops, merged snapshots.
 */
export function startWorkers(config: Config, count: number, options: WorkersOptions = {}): Workers {
  const logger = options.logger ?? loggerFor(config);
  const events = options.events ?? new EventLog();
  const clock = options.clock ?? systemClock;
  const root = new AbortController();
  // [SECURITY] Descriptor exhaustion: the workers share the process's limit.
  const descriptorLimit = Math.floor(
    (options.descriptorLimit ?? readDescriptorLimit().limit) / count,
  );
  const startedAt = Date.now();
  const watchdog = new Watchdog({ clock, tickMs: tickFor(config) });
  const retired = new Retirements(clock);
  const tables = new SharedTables();
  tables.update(config);
  const shared: Shared = {
    logger,
    clock,
    watchdog,
    events,
    stats: new StatsByName(),
    durations: new DurationHistograms(),
    rateChanges: new Map<string, LastRateChange>(),
    webSockets: new WebSocketStats(),
    probe: options.probe,
    // The control's pools only probe: their transports carry health checks.
    transportFor: (pool) => ({ transport: transportFor(pool), owned: true }),
    retired,
    controlled: controlledParts(() => tables.memory, true),
  };
  /** The configuration as read (ports 0 as written): what reloads are planned against. */
  let running = config;
  /** Listeners the first worker bound, by name: every other worker binds the same ports. */
  let bound = new Map<string, BoundListener>();
  const current = new CurrentRuntime(config, (c, prev) => buildRuntime(c, shared, prev));
  const handles: WorkerHandle[] = [];
  const respawns = new Set<Timer>();
  let replaced = 0;
  let stopping = false;
  let draining = false;
  let drained = false;

  const health = (): BackendHealth[] =>
    healthOf(new Map([...current.runtime.pools].map(([name, p]) => [name, p.pool])));

  const spawn = (index: number): WorkerHandle => {
    const handle = new WorkerHandle(index, died);
    handles[index] = handle;
    handle.send({
      type: "start",
      index,
      config: pinPorts(running, bound),
      memory: tables.memory,
      health: health(),
      logToEvents: options.logToEvents ?? false,
      descriptorLimit,
      ...(options.drainIdleGraceMs !== undefined
        ? { drainIdleGraceMs: options.drainIdleGraceMs }
        : {}),
    });
    if (draining) handle.send({ type: "drain" });
    return handle;
  };

  function died(handle: WorkerHandle, why: string): void {
    if (stopping) return;
    const fields = { worker: handle.index, error: why };
    logger.error("worker died: its requests in flight failed; starting another", fields);
    events.record("worker", `worker ${handle.index} died (${why}); starting another`, fields);
    const quick = Date.now() - handle.startedAt < QUICK_DEATH_MS;
    const timer = clock.setTimer(quick ? RESPAWN_BACKOFF_MS : 0, () => {
      respawns.delete(timer);
      if (stopping) return;
      replaced++;
      spawn(handle.index).ready.then(
        () => {
          logger.info("worker replaced", { worker: handle.index });
          events.record("worker", `worker ${handle.index} replaced`, { worker: handle.index });
        },
        (e) => logger.error("replacement worker failed to start", { error: String(e) }),
      );
    });
    respawns.add(timer);
  }

  // The control's own view: its configuration, health, limiters and events, no traffic.
  const history = new SnapshotHistory();
  const own = () =>
    buildSnapshot({
      version: VERSION,
      startedAt,
      pools: () => [...current.runtime.pools].map(([name, p]) => [name, p.pool] as const),
      listeners: () =>
        [...current.runtime.listeners.values()].map((l) => ({
          name: l.name,
          protocol: l.config.protocol,
          url: bound.get(l.name)?.url ?? "",
          pools: l.pools,
          limiter: () => l.limiterView(),
          lastRateChange: () => shared.rateChanges.get(l.name),
          stats: shared.stats.get(l.name),
          connections: () => NO_CONNECTIONS,
        })),
      stats: shared.stats,
      connections: () => NO_CONNECTIONS,
      events,
      clock,
    });
  const reports = () => handles.flatMap((h) => (h && !h.dead && h.latest ? [h.latest] : []));
  let latest = own();
  let lastHealth = "";
  const tick = (): Snapshot => {
    latest = mergeSnapshots(own(), reports());
    history.record(latest);
    return latest;
  };
  let ticker: Timer | undefined;
  const loop = () => {
    tick();
    if (
      draining && !drained && handles.every((h) => h.drain.draining) &&
      drainStatus().connections === 0
    ) {
      drained = true;
      logger.info("drained: every client connection is closed");
      events.record("drain", "drained", {});
    }
    // Health changes reach the workers within one report period.
    const now = health();
    const key = JSON.stringify(now);
    if (key !== lastHealth) {
      lastHealth = key;
      for (const h of handles) h?.send({ type: "health", backends: now });
    }
    ticker = clock.setTimer(REPORT_EVERY_MS, loop);
  };

  const reload = createReloader({
    path: options.configPath,
    timeoutMs: options.configTimeoutMs,
    signal: root.signal,
    logger,
    events,
    running: () => running,
    apply: async (plan) => {
      const next = plan.next;
      const memory = tables.update(next);
      const [first, ...rest] = handles;
      const answer = await first!.reload({
        config: pinPorts(next, bound),
        memory,
        health: health(),
      });
      if (!answer.result.ok) return answer.result.problems;
      bound = new Map(answer.listeners.map((l) => [l.name, l]));
      current.replace(next);
      running = next;
      const config = pinPorts(next, bound);
      const answers = await Promise.all(
        rest.map((h) => h.reload({ config, memory, health: health() })),
      );
      return answers.flatMap((a, i) =>
        a.result.ok
          ? []
          : a.result.problems.map((p) =>
            `worker ${i + 1}: ${p} (the other workers applied the configuration)`
          )
      );
    },
  });

  const drainStatus = (): DrainStatus => {
    const live = handles.filter((h) => h && !h.dead);
    return {
      draining,
      connections: live.reduce((n, h) => n + h.drain.connections, 0),
      inFlight: live.reduce((n, h) => n + h.drain.inFlight, 0),
    };
  };
  const drain = () => {
    if (draining || stopping) return;
    draining = true;
    const { connections } = drainStatus();
    logger.info("draining: no new client connections; requests in progress finish", {
      connections,
      workers: count,
    });
    events.record("drain", "draining started", { connections });
    for (const h of handles) h?.send({ type: "drain" });
  };

  let admin: AdminListeners | undefined;
  const opened: Array<{ [Symbol.asyncDispose](): Promise<void> }> = [];
  if (options.admin ?? true) {
    admin = openAdminListeners({
      config,
      control: {
        snapshot: tick,
        history: () => history.points(),
        config: () => running,
        reload,
        drain,
        drainStatus,
      },
      logger,
      watchdog,
      drainIdleGraceMs: options.drainIdleGraceMs,
      start: (open) => {
        const listener = open();
        opened.push(listener);
        return listener;
      },
    });
  }

  let stopped: Promise<void> | undefined;
  const shutdown = () => {
    stopped ??= (async () => {
      stopping = true;
      const grace = running.server.shutdown_timeout;
      logger.info("shutting down", { connections: drainStatus().connections, grace_ms: grace });
      for (const timer of respawns) timer.cancel();
      for (const h of handles) h?.send({ type: "shutdown" });
      let waited: Timer | undefined;
      await Promise.race([
        Promise.all(handles.map((h) => h?.stopped)),
        new Promise<void>((resolve) => waited = clock.setTimer(grace + STOP_MARGIN_MS, resolve)),
      ]);
      waited?.cancel();
      tick();
      for (const h of handles) h?.terminate();
      ticker?.cancel();
      admin?.closing();
      for (const listener of opened.reverse()) await listener[Symbol.asyncDispose]();
      root.abort();
      await current[Symbol.asyncDispose]();
      retired[Symbol.dispose]();
      watchdog[Symbol.dispose]();
      logger.info("Aegis shutdown complete");
    })();
    return stopped;
  };

  const ready = (async () => {
    current.start(() => latest);
    loop();
    const listeners = await spawn(0).ready;
    bound = new Map(listeners.map((l) => [l.name, l]));
    for (let i = 1; i < count; i++) spawn(i);
    await Promise.all(handles.map((h) => h.ready));
    logger.info("Aegis listening", {
      version: VERSION,
      address: listeners[0]?.url ?? "",
      listeners: Object.fromEntries(listeners.map((l) => [l.name, l.url])),
      ...(admin ? { admin: admin.admin.url } : {}),
      ...(admin?.metrics ? { metrics: admin.metrics.url } : {}),
      workers: count,
    });
  })();

  return {
    ready,
    count,
    get listeners() {
      return bound;
    },
    get adminAddr() {
      return admin?.admin.addr;
    },
    get metricsAddr() {
      return admin?.metrics?.addr;
    },
    events,
    get config() {
      return running;
    },
    snapshot: () => latest,
    refreshSnapshot: tick,
    history: () => history.points(),
    signal: root.signal,
    reload: (): Promise<ReloadResult> => reload(),
    drain,
    drainStatus,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
    workerSnapshots: () => handles.map((h) => h?.latest),
    get replaced() {
      return replaced;
    },
    killWorker(index) {
      handles[index]?.kill("terminated on purpose");
    },
  };
}
