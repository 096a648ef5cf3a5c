/**
 * Frozen, plain-data views of the live counters.
 *
 * Every reader — the adaptive loop, the dashboard, the admin API,
 * `/metrics` — works from a snapshot built once per tick, never from the
 * live objects in `counters.ts` (as Caddy's admin output is a data view, not
 * the live object). A snapshot is a deep copy, deep-frozen: later requests
 * do not change it, and a reader cannot change the proxy through it. Plain
 * objects, arrays and numbers only, so it serialises to JSON as is.
 *
 * @module
 */

import {
  type BackendStats,
  type GlobalStats,
  STATUS_CLASSES,
  type StatusClass,
} from "./counters.ts";
import { type LatencySummary, nearestRank } from "./percentile.ts";

export type { LatencySummary } from "./percentile.ts";

/** One backend's counters and latency at the moment of the snapshot. */
export interface BackendMetricsSnapshot {
  /** Requests sent to the backend. */
  readonly requests: number;
  /** Requests that failed at the backend. */
  readonly errors: number;
  /** Requests in flight. */
  readonly inFlight: number;
  /** Bytes received from the backend. */
  readonly bytesIn: number;
  /** Bytes sent to the backend. */
  readonly bytesOut: number;
  /** Latency over the backend's live window. */
  readonly latency: LatencySummary;
}

/** The whole proxy's counters at the moment of the snapshot. */
export interface GlobalMetricsSnapshot {
  /** Requests received from clients. */
  readonly requests: number;
  /** Responses sent, by status class. */
  readonly responses: Readonly<Record<StatusClass, number>>;
  /** Requests refused with 429. */
  readonly rateLimited: number;
  /** Validation rejects by reason, keys in alphabetical order. */
  readonly rejects: Readonly<Record<string, number>>;
  /** Client connections open. */
  readonly activeConnections: number;
  /** Client connections accepted since start. */
  readonly totalConnections: number;
  /** Bytes received from clients. */
  readonly bytesIn: number;
  /** Bytes sent to clients. */
  readonly bytesOut: number;
}

/**
 * A frozen copy of one backend's counters, with its latency summarised over
 * the samples live at `now`.
 *
 * @example
 * ```ts
 * const snap = snapshotBackend(stats, clock.now());
 * snap.latency.p95; // ms
 * ```
 */
export function snapshotBackend(stats: BackendStats, now: number): BackendMetricsSnapshot {
  const l = stats.latency.percentiles(now);
  return deepFreeze({
    requests: stats.requests,
    errors: stats.errors,
    inFlight: stats.inFlight,
    bytesIn: stats.bytesIn,
    bytesOut: stats.bytesOut,
    latency: { count: l.count, p50: l.p50, p95: l.p95, p99: l.p99, mean: l.mean, max: l.max },
  });
}

/**
 * A frozen copy of the proxy-wide counters. The reject map becomes a plain
 * object with sorted keys, so admin output and `/metrics` are stable from
 * one tick to the next.
 *
 * @example
 * ```ts
 * const snap = snapshotGlobal(stats);
 * snap.responses["5xx"];
 * ```
 */
export function snapshotGlobal(stats: GlobalStats): GlobalMetricsSnapshot {
  const responses = {} as Record<StatusClass, number>;
  for (const c of STATUS_CLASSES) responses[c] = stats.responses[c];
  // fromEntries defines own properties, so even a reason named "__proto__"
  // would stay a count rather than become the object's prototype.
  const rejects: Record<string, number> = Object.fromEntries(
    [...stats.rejects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return deepFreeze({
    requests: stats.requests,
    responses,
    rateLimited: stats.rateLimited,
    rejects,
    activeConnections: stats.activeConnections,
    totalConnections: stats.totalConnections,
    bytesIn: stats.bytesIn,
    bytesOut: stats.bytesOut,
  });
}

/**
 * The sum of several counter snapshots (one per listener): the whole
 * proxy's traffic. Reject reasons are merged, keys sorted.
 *
 * @example
 * ```ts
 * const total = sumGlobal(listeners.map((l) => snapshotGlobal(l.stats)));
 * ```
 */
export function sumGlobal(parts: readonly GlobalMetricsSnapshot[]): GlobalMetricsSnapshot {
  const responses = {} as Record<StatusClass, number>;
  for (const c of STATUS_CLASSES) responses[c] = parts.reduce((n, p) => n + p.responses[c], 0);
  const rejects = new Map<string, number>();
  for (const p of parts) {
    for (const [reason, n] of Object.entries(p.rejects)) {
      rejects.set(reason, (rejects.get(reason) ?? 0) + n);
    }
  }
  const sum = (read: (p: GlobalMetricsSnapshot) => number) =>
    parts.reduce((n, p) => n + read(p), 0);
  return deepFreeze({
    requests: sum((p) => p.requests),
    responses,
    rateLimited: sum((p) => p.rateLimited),
    rejects: Object.fromEntries(
      [...rejects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ),
    activeConnections: sum((p) => p.activeConnections),
    totalConnections: sum((p) => p.totalConnections),
    bytesIn: sum((p) => p.bytesIn),
    bytesOut: sum((p) => p.bytesOut),
  });
}

/**
 * The P95 (nearest rank, see `percentile.ts`) over the union of the live
 * samples of several windows, or `undefined` when none has any.
 *
 * This is the figure the adaptive rate loop compares against its threshold
 * ("P95 across healthy backends", seed `002_…`): the caller picks which
 * backends count. It pools the samples rather than averaging per-backend
 * P95s, because an average of percentiles is not a percentile: one slow
 * backend with few requests would weigh as much as a busy fast one.
 *
 * @example
 * ```ts
 * const p95 = combinedP95(healthy.map((b) => b.stats), clock.now());
 * if (p95 !== undefined && p95 > thresholdMs) reduceRate();
 * ```
 */
export function combinedP95(backends: readonly BackendStats[], now: number): number | undefined {
  const parts = backends.map((b) => b.latency.samples(now));
  let total = 0;
  for (const p of parts) total += p.length;
  if (total === 0) return undefined;
  const all = new Float64Array(total);
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  return nearestRank(all.sort(), 95);
}

/**
 * Freezes `value` and every object reachable from it, then returns it.
 * Meant for plain data (objects, arrays, primitives): `Object.freeze` does
 * not stop a `Map` or `Set` from changing, and throws on a non-empty typed
 * array, so snapshots hold neither. Cycles are fine.
 *
 * @example
 * ```ts
 * const snap = deepFreeze({ a: { b: 1 } });
 * Object.isFrozen(snap.a); // true
 * ```
 */
export function deepFreeze<T>(value: T): T {
  freezeInto(value, new WeakSet());
  return value;
}

function freezeInto(value: unknown, seen: WeakSet<object>): void {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return;
  if (seen.has(value)) return;
  seen.add(value);
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) {
    freezeInto((value as Record<PropertyKey, unknown>)[key], seen);
  }
}
