/**
 * What a running Aegis offers (admin API, dashboard, `main.ts`, tests), and
 * what can be overridden to start one. `app.ts` builds it.
 *
 * @module
 */

import type { DrainStatus, ReloadResult } from "./admin/mod.ts";
import type { Clock } from "./clock/mod.ts";
import type { Config } from "./config/mod.ts";
import type { ClosableTransport } from "./core/mod.ts";
import type { EventLog } from "./events/mod.ts";
import type { Probe } from "./health/mod.ts";
import type { ReloaderOptions } from "./reload/mod.ts";
import type { ControlledParts } from "./runtime/mod.ts";
import type { Logger } from "./log/mod.ts";
import type { StatsByName } from "./metrics/mod.ts";
import type { Pool } from "./pool/mod.ts";
import type { ClientLimiter } from "./limit/mod.ts";
import type { Server } from "./server/mod.ts";
import type { HistoryPoint, Snapshot } from "./snapshot/mod.ts";

/** Overrides for tests and embedding. */
export interface AegisOptions {
  /** Where logs go; built from `config.logging` by default. */
  readonly logger?: Logger;
  /**
   * How backends are reached, one transport for every pool (closed when
   * Aegis stops); by default each pool builds the one its
   * `upstream.transport` names (`auto` and `h1`: pooled HTTP/1.1, over TLS for https).
   */
  readonly transport?: ClosableTransport;
  /** Time source for timeouts, breakers, health checks and durations. */
  readonly clock?: Clock;
  /** How health checks probe a backend; HTTP through the transport by default. */
  readonly probe?: Probe;
  /** The configuration file, re-read by reloads; without it, reload is refused. */
  readonly configPath?: string;
  /** Time limit for parsing and validating the file on reload; 10 s by default. */
  readonly configTimeoutMs?: number;
  /** Start the admin server, and the metrics listener when configured (default true). */
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
  /**
   * Binds every http and tcp listener with `SO_REUSEPORT`: set by a worker
   * isolate of several (`server.workers`), each binding the same ports.
   */
  readonly reusePort?: boolean;
  /**
   * How a reload reads the configuration: the file at `configPath` by
   * default. A worker isolate is handed what its control isolate read.
   */
  readonly loadConfig?: ReloaderOptions["load"];
  /** In a worker isolate of several: what the control isolate owns (`workers/`). */
  readonly controlled?: ControlledParts;
}

/** A configured listener's socket, as a running Aegis shows it. */
export interface ListenerView {
  /** The bound address (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** `http://host:port` of the bound address. */
  readonly url: string;
  /** Its counters, limits and draining state. */
  readonly server: Server;
}

/** A running Aegis. */
export interface Aegis extends AsyncDisposable {
  /**
   * Settles once every listener is bound (at once unless there are udp
   * listeners, whose sockets bind asynchronously) and, with tracing enabled,
   * once its exporter is built (the SDK loads on demand). A bind failure rejects it with
   * the bind error, tagged with the listener's name; Aegis is then still
   * running what did bind, and should be shut down.
   */
  readonly ready: Promise<void>;
  /** The first listener's address. */
  readonly addr: Deno.NetAddr;
  /** The admin listener's address, when it runs. */
  readonly adminAddr: Deno.NetAddr | undefined;
  /** The metrics listener's address, when it runs (`admin.metrics_address`). */
  readonly metricsAddr: Deno.NetAddr | undefined;
  /** The first listener's server. */
  readonly server: Server;
  /** Every listener in service, by name, in configuration order. */
  readonly listeners: ReadonlyMap<string, ListenerView>;
  /** Every pool, by name: the backends and their live state (the current runtime's). */
  readonly pools: ReadonlyMap<string, Pool>;
  /** The pool `default` (the flat form's), or else the first pool. */
  readonly pool: Pool;
  /** Recent events (health changes, breaker transitions, rate changes, reloads). */
  readonly events: EventLog;
  /** Traffic counters, by listener. */
  readonly stats: StatsByName;
  /** The running configuration. */
  readonly config: Config;
  /** The first listener's per-client rate limiter (the current runtime's). */
  readonly limiter: ClientLimiter;
  /** The latest snapshot (rebuilt every tick); what every reader uses. */
  snapshot(): Snapshot;
  /** Builds a fresh snapshot now. */
  refreshSnapshot(): Snapshot;
  /** The last 15 minutes of headline figures, about one point a second, oldest first. */
  history(): readonly HistoryPoint[];
  /** Aborted when Aegis stops; every background loop listens to it. */
  readonly signal: AbortSignal;
  /** Re-reads the configuration file and swaps it in if valid (SIGHUP, `POST /reload`). */
  reload(): Promise<ReloadResult>;
  /** Stops every listener accepting and lets the connections open finish (`POST /drain`). */
  drain(): void;
  /** Drain progress. */
  drainStatus(): DrainStatus;
  /**
   * Graceful shutdown: every listener stops accepting, requests in progress
   * get up to `server.shutdown_timeout`, abort background work, log
   * `Aegis shutdown complete`. Safe to call more than once.
   */
  shutdown(): Promise<void>;
}
