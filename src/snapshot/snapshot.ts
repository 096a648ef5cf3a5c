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
  type StatsByName,
  sumGlobal,
  type WebSocketSnapshot,
} from "../metrics/mod.ts";
import type { UdpRelaySnapshot } from "../l4/mod.ts";
import type { Pool } from "../pool/mod.ts";
import type { Refusal } from "../server/mod.ts";
import type { TracingCounters } from "../tracing/mod.ts";

/** One backend as the snapshot shows it. */
export interface BackendSnapshot {
  /** The pool it belongs to: with its URL, the backend's identity. */
  readonly pool: string;
  /** Configured URL. */
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
  /** The store the fleet shares the limits through; absent when they are local. */
  readonly store?: StoreSnapshot;
}

/** A listener's shared rate limit store (`rate_limit.store`). */
export interface StoreSnapshot {
  /** The kind of store. */
  readonly type: "redis";
  /** `up` while the shared limits are in force; `connecting` until the first sync answers. */
  readonly status: "connecting" | "up" | "down";
  /** Syncs that failed or timed out, since the listener's store was set up. */
  readonly failedSyncs: number;
}

/** The public listener's connection limits, and what they turned away. */
export interface ConnectionsSnapshot {
  /** `server.max_connections` in force (resolved when `auto`). */
  readonly maxConnections: number;
  /** `server.max_connections_per_client` in force. */
  readonly maxConnectionsPerClient: number;
  /** Connections closed at once since start, by the limit they hit. */
  readonly rejected: Readonly<Record<Refusal, number>>;
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

/** A udp listener's NAT sessions and datagrams (see `l4/udp`). */
export type UdpSnapshot = UdpRelaySnapshot;

/** Spans sent to the tracing collector, and spans lost on the way. */
export interface TracingSnapshot {
  /** Spans the collector accepted since start. */
  readonly spansExported: number;
  /** Spans dropped since start: queue full, export failed or timed out, left at shutdown. */
  readonly spansDropped: number;
}

/** A certificate a TLS listener serves. */
export interface CertificateSnapshot {
  /** Its subject, one line: `CN=example.com`. */
  readonly subject: string;
  /** When it expires, epoch milliseconds. */
  readonly notAfter: number;
}

/** One listener as the snapshot shows it. */
export interface ListenerSnapshot {
  /** Its name. */
  readonly name: string;
  /** What it speaks. */
  readonly protocol: "http" | "tcp" | "udp";
  /** A udp listener's sessions and datagrams; `null` for the others. */
  readonly udp: UdpSnapshot | null;
  /** Its bound address, e.g. `http://0.0.0.0:8080`. */
  readonly url: string;
  /** The pools its routes reach. */
  readonly pools: readonly string[];
  /**
   * P95 latency (ms) over the live samples of the healthy backends of those
   * pools: what its adaptive loop sees.
   */
  readonly healthyP95: number | null;
  /** Its rate limiter. */
  readonly limiter: LimiterSnapshot;
  /** Its traffic: requests, responses, refusals, bytes (connections from its sockets). */
  readonly traffic: GlobalMetricsSnapshot;
  /** Its sockets' connections, limits and refusals (a moved listener's old socket included). */
  readonly connections: ConnectionsSnapshot & { readonly active: number; readonly total: number };
  /** The certificates a TLS listener serves; absent or empty for the others. */
  readonly certificates?: readonly CertificateSnapshot[];
}

/** Everything, at one moment. */
export interface Snapshot {
  /** Wall-clock time it was built (epoch ms). */
  readonly time: number;
  /** Milliseconds since Aegis started. */
  readonly uptimeMs: number;
  /** Aegis version. */
  readonly version: string;
  /** The first listener's address, e.g. `http://0.0.0.0:8080`. */
  readonly listen: string;
  /** Every listener, in configuration order. */
  readonly listeners: readonly ListenerSnapshot[];
  /** Traffic counters, every listener's added up (connections included). */
  readonly global: GlobalMetricsSnapshot;
  /** Connection limits and refusals, every listener's added up. */
  readonly connections: ConnectionsSnapshot;
  /** Request durations by backend and status class (seconds). */
  readonly durations: readonly HistogramSeries[];
  /** Every configured backend, pool by pool, in configuration order. */
  readonly backends: readonly BackendSnapshot[];
  /** P95 latency over every healthy backend's live samples (ms). */
  readonly healthyP95: number | null;
  /** The first listener's rate limiter. */
  readonly limiter: LimiterSnapshot;
  /** Recent events, newest first. */
  readonly events: readonly AegisEvent[];
  /** Span export counters; absent where no tracing counters were given. */
  readonly tracing?: TracingSnapshot;
  /** WebSocket sessions open now and what each pool's sessions carried. */
  readonly websocket: WebSocketSnapshot;
}

/** What a listener reports to a snapshot. */
export interface ListenerSource {
  readonly name: string;
  /** What it speaks; `http` when not said. */
  readonly protocol?: "http" | "tcp" | "udp";
  /** A udp listener's relay counters, once its socket is bound. */
  udp?(): UdpSnapshot | undefined;
  /** A TLS listener's certificates in service. */
  certificates?(): readonly CertificateSnapshot[];
  /** Its bound address. */
  readonly url: string;
  /** The pools its routes reach. */
  readonly pools: readonly string[];
  /** Its limiter now. */
  limiter(): Omit<LimiterSnapshot, "lastChange">;
  /** Its adaptive loop's last change, if any. */
  lastRateChange(): (AdaptiveChange & { readonly time: number }) | undefined;
  /** Its traffic counters. */
  readonly stats: GlobalStats;
  /** What its sockets report. */
  connections(): ConnectionsSource;
}

/** The live objects a snapshot is read from. */
export interface SnapshotSources {
  readonly version: string;
  /** Wall-clock start time (epoch ms). */
  readonly startedAt: number;
  /** Every pool by name, in configuration order. */
  pools(): ReadonlyArray<readonly [string, Pool]>;
  /** Every listener, in configuration order. */
  listeners(): readonly ListenerSource[];
  /** Traffic counters by listener, every listener there ever was included. */
  readonly stats: StatsByName;
  readonly durations?: DurationHistograms;
  readonly connections: () => ConnectionsSource;
  readonly events: EventLog;
  /** Monotonic clock for latency windows. */
  readonly clock: Clock;
  /** Wall clock. */
  readonly now?: () => number;
  /** Span export counters. */
  readonly tracing?: TracingCounters;
  /** WebSocket counters; none when absent. */
  readonly webSockets?: { snapshot(): WebSocketSnapshot };
}

/** What `limiter` shows when there is no listener (never, in a running Aegis). */
const NO_LIMITER: LimiterSnapshot = {
  rate: 0,
  minRate: 0,
  maxRate: 0,
  burst: 0,
  trackedClients: 0,
  maxClients: 0,
  evictions: 0,
  lastChange: null,
};

/** A copy of what sockets report, limits and refusals included. */
function connectionsOf(c: ConnectionsSource): ListenerSnapshot["connections"] {
  return {
    active: c.active,
    total: c.total,
    maxConnections: c.maxConnections,
    maxConnectionsPerClient: c.maxConnectionsPerClient,
    rejected: { ...c.rejected },
    acceptErrors: c.acceptErrors,
  };
}

/** How many recent events a snapshot carries. */
export const SNAPSHOT_EVENTS = 100;

/** Builds a deep-frozen snapshot. */
export function buildSnapshot(s: SnapshotSources): Snapshot {
  const time = (s.now ?? Date.now)();
  const mono = s.clock.now();
  const pools = s.pools();
  const backends = pools.flatMap(([pool, { states }]) =>
    states.map((state): BackendSnapshot => ({
      pool,
      id: state.id,
      weight: state.backend.weight,
      effectiveWeight: state.weight,
      health: state.health.health,
      warmupPercent: (state.health.warmupStep / WARMUP_STEPS) * 100,
      available: state.available(),
      breaker: state.breaker.snapshot(),
      metrics: snapshotBackend(state.stats, mono),
    }))
  );
  const healthyOf = (names: readonly string[]) =>
    pools.filter(([name]) => names.includes(name))
      .flatMap(([, { states }]) => states.filter((state) => state.health.health === "healthy"));
  const p95 = (names: readonly string[]) =>
    combinedP95(healthyOf(names).map((h) => h.stats), mono) ?? null;
  const listeners = s.listeners().map((l): ListenerSnapshot => {
    const c = l.connections();
    const udp = l.udp?.() ?? null;
    const traffic = snapshotGlobal(l.stats);
    return {
      name: l.name,
      protocol: l.protocol ?? "http",
      udp,
      url: l.url,
      pools: l.pools,
      healthyP95: p95(l.pools),
      limiter: { ...l.limiter(), lastChange: l.lastRateChange() ?? null },
      traffic: {
        ...traffic,
        // A udp listener's bytes are the datagrams' payloads its relay counted.
        bytesIn: traffic.bytesIn + (udp?.bytesToBackend ?? 0),
        bytesOut: traffic.bytesOut + (udp?.bytesToClient ?? 0),
        activeConnections: c.active,
        totalConnections: c.total,
      },
      connections: connectionsOf(c),
      certificates: (l.certificates?.() ?? []).map((c) => ({
        subject: c.subject,
        notAfter: c.notAfter,
      })),
    };
  });
  const connections = s.connections();
  const global = sumGlobal([...s.stats.entries()].map(([, stats]) => snapshotGlobal(stats)));
  return deepFreeze({
    time,
    uptimeMs: time - s.startedAt,
    version: s.version,
    listen: listeners[0]?.url ?? "",
    listeners,
    global: {
      ...global,
      bytesIn: global.bytesIn + listeners.reduce((n, l) => n + (l.udp?.bytesToBackend ?? 0), 0),
      bytesOut: global.bytesOut + listeners.reduce((n, l) => n + (l.udp?.bytesToClient ?? 0), 0),
      activeConnections: connections.active,
      totalConnections: connections.total,
    },
    connections: {
      maxConnections: connections.maxConnections,
      maxConnectionsPerClient: connections.maxConnectionsPerClient,
      rejected: { ...connections.rejected },
      acceptErrors: connections.acceptErrors,
    },
    durations: s.durations?.snapshot() ?? [],
    backends,
    healthyP95: p95(pools.map(([name]) => name)),
    limiter: listeners[0]?.limiter ?? NO_LIMITER,
    events: s.events.recent(SNAPSHOT_EVENTS),
    ...(s.tracing
      ? { tracing: { spansExported: s.tracing.exported, spansDropped: s.tracing.dropped } }
      : {}),
    websocket: s.webSockets?.snapshot() ?? { open: [], pools: [] },
  });
}
