/**
 * What the admin API answers, as plain data with snake_case keys: the one
 * place where the snapshot's TypeScript names (camelCase, the language's
 * style) become the names a client of the admin API reads (snake_case, like
 * the configuration file, the access log and the Prometheus names).
 *
 * Every view lists its keys one by one instead of passing a snapshot object
 * through, so a field added to the snapshot reaches the API only when it is
 * named here (Caddy: admin output is a plain data view, never the live
 * object). `tests/integration/admin_keys_test.ts` walks real answers and
 * fails on any key that is not snake_case.
 *
 * @module
 */

import type { BreakerSnapshot } from "../breaker/mod.ts";
import type { AegisEvent } from "../events/mod.ts";
import type { LatencySummary, WebSocketSnapshot } from "../metrics/mod.ts";
import type { Refusal } from "../server/mod.ts";
import type { BackendSnapshot, HistoryPoint, Snapshot } from "../snapshot/mod.ts";
import { healthGroups, statusGroups } from "./groups.ts";
import { type LimiterView, limiterView } from "./limiter_view.ts";

/** The outcome of a reload. */
export type ReloadResult =
  | {
    readonly ok: true;
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly kept: readonly string[];
    /** Listeners by name the reload opened, closed and moved to a new address. */
    readonly listeners: ListenerChanges;
  }
  | {
    readonly ok: false;
    readonly problems: readonly string[];
    /** What refused it, when not the file's content (there is no file to reload). */
    readonly error?: string;
  };

/** Listeners by name a reload opened, closed and moved. */
export interface ListenerChanges {
  readonly opened: readonly string[];
  readonly closed: readonly string[];
  readonly moved: readonly string[];
}

/** Where drain stands. */
export interface DrainStatus {
  /** True once draining (or shutting down) began. */
  readonly draining: boolean;
  /** Client connections still open. */
  readonly connections: number;
  /** Requests still in progress. */
  readonly inFlight: number;
}

/** `POST /drain`'s answer, and `drain` in `GET /status`. */
export interface DrainView {
  readonly draining: boolean;
  readonly connections: number;
  readonly in_flight: number;
}

/** Drain progress as the admin API shows it. */
export function drainView(d: DrainStatus): DrainView {
  return { draining: d.draining, connections: d.connections, in_flight: d.inFlight };
}

/** `POST /reload`'s answer: 200 with what changed, or 400 with every problem. */
export type ReloadView =
  | {
    readonly reloaded: true;
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly kept: readonly string[];
    readonly listeners: ListenerChanges;
  }
  | { readonly error: string; readonly problems: readonly string[] };

/** A reload's outcome as the admin API shows it. */
export function reloadView(result: ReloadResult): ReloadView {
  if (!result.ok) {
    return {
      error: result.error ?? "invalid configuration, nothing changed",
      problems: result.problems,
    };
  }
  return {
    reloaded: true,
    added: result.added,
    removed: result.removed,
    kept: result.kept,
    listeners: {
      opened: result.listeners.opened,
      closed: result.listeners.closed,
      moved: result.listeners.moved,
    },
  };
}

/** One backend in `GET /health`. */
export interface HealthBackendView {
  /** The pool it belongs to. */
  readonly pool: string;
  readonly url: string;
  readonly health: BackendSnapshot["health"];
  readonly available: boolean;
  readonly breaker: BreakerSnapshot["state"];
  readonly warmup_percent: number;
}

/** `GET /health`'s answer. */
export interface HealthView extends ReturnType<typeof healthGroups> {
  readonly status: "ok" | "unavailable";
  readonly draining: boolean;
  readonly backends: readonly HealthBackendView[];
}

/** Health as the admin API shows it; `status` is `ok` while a backend can take traffic. */
export function healthView(snap: Snapshot, drain: DrainStatus): HealthView {
  return {
    status: snap.backends.some((b) => b.available) ? "ok" : "unavailable",
    draining: drain.draining,
    backends: snap.backends.map((b) => ({
      pool: b.pool,
      url: b.id,
      health: b.health,
      available: b.available,
      breaker: b.breaker.state,
      warmup_percent: b.warmupPercent,
    })),
    ...healthGroups(snap),
  };
}

/** A circuit breaker in `GET /status`. */
export interface BreakerView {
  readonly state: BreakerSnapshot["state"];
  readonly consecutive_failures: number;
  readonly half_open_in_flight: number;
  readonly half_open_successes: number;
  readonly opened_at: number | null;
  readonly opens: number;
}

/** A backend's latency over its live window, in milliseconds. */
export interface LatencyView {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

/** One backend in `GET /status`. */
export interface StatusBackendView {
  /** The pool it belongs to. */
  readonly pool: string;
  readonly url: string;
  readonly weight: number;
  readonly effective_weight: number;
  readonly health: BackendSnapshot["health"];
  readonly available: boolean;
  readonly warmup_percent: number;
  readonly breaker: BreakerView;
  readonly requests: number;
  readonly errors: number;
  readonly in_flight: number;
  readonly bytes_in: number;
  readonly bytes_out: number;
  readonly latency_ms: LatencyView;
}

/**
 * One event in `GET /status`. Its `fields` are passed through as recorded:
 * their names are snake_case where they are recorded, which the compiler
 * checks (`SnakeCaseFields` in `events/`).
 */
export interface EventView {
  readonly time: number;
  readonly kind: string;
  readonly message: string;
  readonly fields: AegisEvent["fields"];
}

/** `GET /status`'s answer. */
export interface StatusView extends ReturnType<typeof statusGroups> {
  readonly version: string;
  readonly uptime_seconds: number;
  readonly listen: {
    readonly public: string;
    readonly admin: string;
    /** `""` without `admin.metrics_address`. */
    readonly metrics: string;
  };
  readonly drain: DrainView;
  readonly global: {
    readonly requests: number;
    /** Keyed by status class (`1xx` … `5xx`): data, not names. */
    readonly responses: Readonly<Record<string, number>>;
    readonly rate_limited: number;
    /** Keyed by rejection reason (`path_traversal`, …): data, not names. */
    readonly rejects: Readonly<Record<string, number>>;
    readonly active_connections: number;
    readonly total_connections: number;
    readonly bytes_in: number;
    readonly bytes_out: number;
  };
  readonly connections: {
    readonly max_connections: number;
    readonly max_connections_per_client: number;
    readonly rejected: Readonly<Record<Refusal, number>>;
    readonly accept_errors: number;
  };
  readonly backends: readonly StatusBackendView[];
  readonly limiter: LimiterView;
  readonly websocket: WebSocketView;
  readonly events: readonly EventView[];
  /** The running configuration, printed as `aegis check` prints it (secrets redacted). */
  readonly config: unknown;
}

/** WebSocket sessions in `GET /status`. */
export interface WebSocketView {
  /** Sessions open now, by listener and pool (every pair that ever had one). */
  readonly open: readonly { listener: string; pool: string; open: number }[];
  /** What each pool's sessions carried since start. */
  readonly pools: readonly {
    pool: string;
    sessions: number;
    bytes_to_backend: number;
    bytes_to_client: number;
  }[];
}

/** The WebSocket counters under their snake_case names. */
function webSocketView(ws: WebSocketSnapshot): WebSocketView {
  return {
    open: ws.open.map((o) => ({ listener: o.listener, pool: o.pool, open: o.open })),
    pools: ws.pools.map((p) => ({
      pool: p.pool,
      sessions: p.sessions,
      bytes_to_backend: p.bytesToBackend,
      bytes_to_client: p.bytesToClient,
    })),
  };
}

/** What `GET /status` reads besides the snapshot. */
export interface StatusInputs {
  readonly drain: DrainStatus;
  /** The admin listener's address. */
  readonly adminListen: string;
  /** The metrics listener's address; `""` when there is none. */
  readonly metricsListen: string;
  /** The running configuration, already printable (secrets redacted). */
  readonly config: unknown;
}

function breakerView(b: BreakerSnapshot): BreakerView {
  return {
    state: b.state,
    consecutive_failures: b.consecutiveFailures,
    half_open_in_flight: b.halfOpenInFlight,
    half_open_successes: b.halfOpenSuccesses,
    opened_at: b.openedAt,
    opens: b.opens,
  };
}

function latencyView(l: LatencySummary): LatencyView {
  return { count: l.count, p50: l.p50, p95: l.p95, p99: l.p99, mean: l.mean, max: l.max };
}

function eventView(e: AegisEvent): EventView {
  return { time: e.time, kind: e.kind, message: e.message, fields: e.fields };
}

/** Everything an operator looks at, from one snapshot, as the admin API shows it. */
export function statusView(snap: Snapshot, inputs: StatusInputs): StatusView {
  const g = snap.global;
  const c = snap.connections;
  return {
    version: snap.version,
    uptime_seconds: Math.round(snap.uptimeMs / 1000),
    listen: { public: snap.listen, admin: inputs.adminListen, metrics: inputs.metricsListen },
    drain: drainView(inputs.drain),
    global: {
      requests: g.requests,
      responses: g.responses,
      rate_limited: g.rateLimited,
      rejects: g.rejects,
      active_connections: g.activeConnections,
      total_connections: g.totalConnections,
      bytes_in: g.bytesIn,
      bytes_out: g.bytesOut,
    },
    connections: {
      max_connections: c.maxConnections,
      max_connections_per_client: c.maxConnectionsPerClient,
      rejected: { ...c.rejected },
      accept_errors: c.acceptErrors,
    },
    backends: snap.backends.map((b) => ({
      pool: b.pool,
      url: b.id,
      weight: b.weight,
      effective_weight: b.effectiveWeight,
      health: b.health,
      available: b.available,
      warmup_percent: b.warmupPercent,
      breaker: breakerView(b.breaker),
      requests: b.metrics.requests,
      errors: b.metrics.errors,
      in_flight: b.metrics.inFlight,
      bytes_in: b.metrics.bytesIn,
      bytes_out: b.metrics.bytesOut,
      latency_ms: latencyView(b.metrics.latency),
    })),
    limiter: limiterView(snap.limiter),
    websocket: webSocketView(snap.websocket),
    ...statusGroups(snap),
    events: snap.events.map(eventView),
    config: inputs.config,
  };
}

/** One point of the 15-minute history, as the web dashboard's stream sends it. */
export interface HistoryPointView {
  /** When, in epoch milliseconds. */
  readonly time: number;
  readonly requests_per_second: number | null;
  /** Share of responses that were `5xx`, 0–1. */
  readonly error_share: number | null;
  readonly p95_ms: number | null;
  readonly rate_limited_per_second: number | null;
  readonly connections: number;
}

/** A history point under its snake_case names. */
export function historyPointView(p: HistoryPoint): HistoryPointView {
  return {
    time: p.time,
    requests_per_second: p.requestsPerSecond,
    error_share: p.errorShare,
    p95_ms: p.p95,
    rate_limited_per_second: p.rateLimitedPerSecond,
    connections: p.connections,
  };
}
