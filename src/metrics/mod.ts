/**
 * Metrics: live counters and latency windows on the request path, frozen
 * snapshots for everyone who reads them.
 *
 * The request path bumps fields on {@linkcode BackendStats} and
 * {@linkcode GlobalStats} and calls {@linkcode LatencyWindow.record}; once
 * per tick, {@linkcode snapshotBackend} and {@linkcode snapshotGlobal} turn
 * them into plain data for the dashboard, the admin API and `/metrics`, and
 * {@linkcode combinedP95} feeds the adaptive rate loop. Percentiles use the
 * nearest-rank method throughout.
 *
 * @example
 * ```ts
 * const stats = new BackendStats();
 * stats.requests++;
 * stats.latency.record(42, clock.now());
 * const snap = snapshotBackend(stats, clock.now()); // frozen
 * ```
 *
 * @module
 */

export {
  BackendStats,
  GlobalStats,
  STATUS_CLASSES,
  type StatusClass,
  statusClass,
} from "./counters.ts";
export {
  DURATION_BUCKETS,
  DurationHistograms,
  type DurationLabels,
  type HistogramSeries,
} from "./histogram.ts";
export { StatsByName } from "./by_name.ts";
export { nearestRank } from "./percentile.ts";
export {
  type BackendMetricsSnapshot,
  combinedP95,
  deepFreeze,
  type GlobalMetricsSnapshot,
  type LatencySummary,
  snapshotBackend,
  snapshotGlobal,
  sumGlobal,
} from "./snapshot.ts";
export {
  DEFAULT_CAPACITY,
  DEFAULT_MAX_AGE_MS,
  LatencyWindow,
  type LatencyWindowOptions,
} from "./window.ts";
export {
  type WebSocketOpen,
  type WebSocketPoolTotals,
  type WebSocketSnapshot,
  WebSocketStats,
} from "./websocket.ts";
