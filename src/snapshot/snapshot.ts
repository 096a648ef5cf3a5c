/**
 * The snapshot: one immutable, plain-data view of everything an operator
 * looks at (traffic counters, every backend's state and latency, the rate
 * limiter, recent events), built once per tick. The adaptive loop, the
 * dashboard and the admin API read only snapshots, never live objects, so
 * a reader can take its time and nothing it sees changes under it.
 *
 * @module
 */

import type { BreakerSnapshot } from "../breaker/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { AegisEvent, EventLog } from "../events/mod.ts";
import type { Health } from "../health/mod.ts";
import { WARMUP_STEPS } from "../health/mod.ts";
import type { AdaptiveChange } from "../limit/mod.ts";
import {
  type BackendMetricsSnapshot,
  combinedP95,
  deepFreeze,
  type DurationHistograms,
  type GlobalMetricsSnapshot,
  type GlobalStats,
  type HistogramSeries,
  snapshotBackend,
  snapshotGlobal,
} from "../metrics/mod.ts";
import type { Pool } from "../pool/mod.ts";

/** One backend as the snapshot shows it. */
export interface BackendSnapshot {
  /** Configured URL, the backend's identity. */
  readonly id: string;
  /** Configured weight. */
  readonly weight: number;
  /** Weight in force now (warm-up applied; 0 while unhealthy). */
  readonly effectiveWeight: number;
  /** Health by active checks. */
  readonly health: Health;
  /** Warm-up, 0–100 % of the weight. */
  readonly warmupPercent: number;
  /** Whether it may take a request now (healthy and breaker admits). */
  readonly available: boolean;
  /** The circuit breaker. */
  readonly breaker: BreakerSnapshot;
  /** Counters and latency. */
  readonly metrics: BackendMetricsSnapshot;
}

/** The limiter and the adaptive loop as the snapshot shows them. */
export interface LimiterSnapshot {
  /** Tokens per second each client earns now. */
  readonly rate: number;
  /** Adaptive bounds. */
  readonly minRate: number;
  readonly maxRate: number;
  /** Bucket capacity. */
  readonly burst: number;
  /** Clients with a bucket now. */
  readonly trackedClients: number;
  /** The cap on tracked clients. */
  readonly maxClients: number;
  /** Buckets dropped because of the cap, since start. */
  readonly evictions: number;
  /** The last rate change, with the P95 that caused it and when (epoch ms). */
  readonly lastChange: (AdaptiveChange & { readonly time: number }) | null;
}

/** The public listener's connection limits, and what they turned away. */
export interface ConnectionsSnapshot {
  /** `server.max_connections` in force (resolved when `auto`). */
  readonly maxConnections: number;
  /** `server.max_connections_per_client` in force. */
  readonly maxConnectionsPerClient: number;
  /** Connections closed at once since start, by the limit they hit. */
  readonly rejected: { readonly max_connections: number; readonly per_client: number };
  /** Failed `accept` calls since start (out of descriptors and the like). */
  readonly acceptErrors: number;
}

/** What the listener reports to a snapshot. */
export interface ConnectionsSource extends ConnectionsSnapshot {
  /** Client connections open now. */
  readonly active: number;
  /** Client connections accepted and served since start. */
  readonly total: number;
}

/** Everything, at one moment. */
export interface Snapshot {
  /** Wall-clock time it was built (epoch ms). */
  readonly time: number;
  /** Milliseconds since Aegis started. */
  readonly uptimeMs: number;
  /** Aegis version. */
  readonly version: string;
  /** The public listen address, e.g. `http://0.0.0.0:8080`. */
  readonly listen: string;
  /** Traffic counters (connections included). */
  readonly global: GlobalMetricsSnapshot;
  /** Connection limits and refusals. */
  readonly connections: ConnectionsSnapshot;
  /** Request durations by backend and status class (seconds). */
  readonly durations: readonly HistogramSeries[];
  /** Every configured backend, in configuration order. */
  readonly backends: readonly BackendSnapshot[];
  /** P95 latency over the healthy backends' live samples (ms); what the adaptive loop sees. */
  readonly healthyP95: number | null;
  /** The rate limiter. */
  readonly limiter: LimiterSnapshot;
  /** Recent events, newest first. */
  readonly events: readonly AegisEvent[];
}

/** The live objects a snapshot is read from. */
export interface SnapshotSources {
  readonly version: string;
  readonly listen: string;
  /** Wall-clock start time (epoch ms). */
  readonly startedAt: number;
  readonly pool: Pool;
  readonly stats: GlobalStats;
  readonly durations?: DurationHistograms;
  readonly connections: () => ConnectionsSource;
  readonly limiter: () => Omit<LimiterSnapshot, "lastChange">;
  readonly lastRateChange: () => (AdaptiveChange & { readonly time: number }) | undefined;
  readonly events: EventLog;
  /** Monotonic clock for latency windows. */
  readonly clock: Clock;
  /** Wall clock. */
  readonly now?: () => number;
}

/** How many recent events a snapshot carries. */
export const SNAPSHOT_EVENTS = 100;

/** Builds a deep-frozen snapshot. */
export function buildSnapshot(s: SnapshotSources): Snapshot {
  const time = (s.now ?? Date.now)();
  const mono = s.clock.now();
  const backends = s.pool.states.map((state): BackendSnapshot => ({
    id: state.id,
    weight: state.backend.weight,
    effectiveWeight: state.weight,
    health: state.health.health,
    warmupPercent: (state.health.warmupStep / WARMUP_STEPS) * 100,
    available: state.available(),
    breaker: state.breaker.snapshot(),
    metrics: snapshotBackend(state.stats, mono),
  }));
  const healthy = s.pool.states.filter((state) => state.health.health === "healthy");
  const connections = s.connections();
  const global = snapshotGlobal(s.stats);
  return deepFreeze({
    time,
    uptimeMs: time - s.startedAt,
    version: s.version,
    listen: s.listen,
    global: {
      ...global,
      activeConnections: connections.active,
      totalConnections: connections.total,
    },
    connections: {
      maxConnections: connections.maxConnections,
      maxConnectionsPerClient: connections.maxConnectionsPerClient,
      rejected: {
        max_connections: connections.rejected.max_connections,
        per_client: connections.rejected.per_client,
      },
      acceptErrors: connections.acceptErrors,
    },
    durations: s.durations?.snapshot() ?? [],
    backends,
    healthyP95: combinedP95(healthy.map((h) => h.stats), mono) ?? null,
    limiter: { ...s.limiter(), lastChange: s.lastRateChange() ?? null },
    events: s.events.recent(SNAPSHOT_EVENTS),
  });
}
