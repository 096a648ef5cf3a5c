/**
 * One snapshot of the whole process from its workers' snapshots: what
 * `/metrics`, `/status`, `/stream` and the terminal dashboard show with
 * `server.workers` above 1. Pure, so every rule is tested with plain
 * snapshots.
 *
 * - **Summed**: every counter (requests, responses, refusals, bytes,
 *   connections, a backend's requests, errors and in-flight, WebSocket
 *   and udp counts, spans), and connection limits (each worker has its own
 *   sockets and caps).
 * - **Merged exactly**: the request duration histograms, bucket by bucket
 *   (`metrics/histogram.ts` has fixed bounds), so `/metrics` quantiles are
 *   the process's.
 * - **Bounded**: a backend's latency summary comes from each worker's
 *   sliding window of samples, which do not merge; the count and mean are
 *   exact, the percentiles and `max` are the highest any worker saw (an
 *   upper bound), and so is each P95 the adaptive loop reads.
 * - **Taken from the control isolate's own snapshot**: which listeners and
 *   backends there are, backend health and warm-up (control runs the
 *   checks), breakers (their cells are shared, control reads the same),
 *   each limiter and its last rate change (control runs the adaptive loops
 *   over the shared buckets), uptime; events are the control's and the
 *   workers', newest first. Each listener's bound URL is the first worker's.
 *
 * @module
 */

import {
  deepFreeze,
  type HistogramSeries,
  type LatencySummary,
  sumGlobal,
} from "../metrics/mod.ts";
import {
  type BackendSnapshot,
  type ConnectionsSnapshot,
  type ListenerSnapshot,
  type Snapshot,
  SNAPSHOT_EVENTS,
} from "../snapshot/mod.ts";

/**
 * Event kinds only the control isolate reports for the process: a worker's
 * own `reload` and `drain` events repeat what the control already said.
 */
const CONTROL_KINDS: ReadonlySet<string> = new Set(["reload", "drain"]);

const sum = <T>(parts: readonly T[], read: (p: T) => number) =>
  parts.reduce((n, p) => n + read(p), 0);

/** Summed records of numbers with the same keys (rejects, drops, refusals). */
function sumRecords<K extends string>(
  parts: ReadonlyArray<Readonly<Record<K, number>>>,
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const p of parts) {
    for (const [k, v] of Object.entries(p) as Array<[K, number]>) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

/** Latency of one backend over every worker's window: exact count and mean, bounded percentiles. */
function mergeLatency(parts: readonly LatencySummary[]): LatencySummary {
  const count = sum(parts, (p) => p.count);
  const max = (read: (p: LatencySummary) => number) =>
    Math.max(0, ...parts.filter((p) => p.count > 0).map(read));
  return {
    count,
    p50: max((p) => p.p50),
    p95: max((p) => p.p95),
    p99: max((p) => p.p99),
    mean: count === 0 ? 0 : sum(parts, (p) => p.mean * p.count) / count,
    max: max((p) => p.max),
  };
}

function mergeConnections(parts: readonly ConnectionsSnapshot[]): ConnectionsSnapshot {
  return {
    maxConnections: sum(parts, (c) => c.maxConnections),
    maxConnectionsPerClient: Math.max(0, ...parts.map((c) => c.maxConnectionsPerClient)),
    rejected: sumRecords(parts.map((c) => c.rejected)),
    acceptErrors: sum(parts, (c) => c.acceptErrors),
  };
}

/** One listener: the control's, with every worker's traffic and connections summed. */
function mergeListener(
  own: ListenerSnapshot,
  parts: readonly ListenerSnapshot[],
): ListenerSnapshot {
  if (parts.length === 0) return own;
  const p95s = parts.map((l) => l.healthyP95).filter((p): p is number => p !== null);
  const udp = parts.map((l) => l.udp).filter((u) => u !== null);
  return {
    ...own,
    url: parts[0]!.url,
    healthyP95: p95s.length === 0 ? null : Math.max(...p95s),
    traffic: sumGlobal(parts.map((l) => l.traffic)),
    connections: {
      ...mergeConnections(parts.map((l) => l.connections)),
      active: sum(parts, (l) => l.connections.active),
      total: sum(parts, (l) => l.connections.total),
    },
    certificates: parts[0]!.certificates ?? [],
    udp: udp.length === 0 ? null : {
      ...udp[0]!,
      ...Object.fromEntries(
        (Object.keys(udp[0]!) as Array<keyof typeof udp[0]>)
          .filter((k) => typeof udp[0]![k] === "number")
          .map((k) => [k, sum(udp, (u) => u[k] as number)]),
      ),
      drops: sumRecords(udp.map((u) => u.drops)),
    },
  };
}

/**
 * One backend: health, warm-up, breaker and availability as the control
 * sees them (its checks; the breaker cells every isolate shares); counters summed.
 */
function mergeBackend(own: BackendSnapshot, parts: readonly BackendSnapshot[]): BackendSnapshot {
  if (parts.length === 0) return own;
  const m = parts.map((b) => b.metrics);
  return {
    ...own,
    metrics: {
      requests: sum(m, (x) => x.requests),
      errors: sum(m, (x) => x.errors),
      inFlight: sum(m, (x) => x.inFlight),
      bytesIn: sum(m, (x) => x.bytesIn),
      bytesOut: sum(m, (x) => x.bytesOut),
      latency: mergeLatency(m.map((x) => x.latency)),
    },
  };
}

/** Histogram series with the same labels, bucket by bucket; in order of first appearance. */
function mergeDurations(
  parts: ReadonlyArray<readonly HistogramSeries[]>,
): HistogramSeries[] {
  const merged = new Map<string, HistogramSeries>();
  for (const series of parts.flat()) {
    const key = `${series.listener}\0${series.pool}\0${series.backend}\0${series.statusClass}`;
    const before = merged.get(key);
    merged.set(
      key,
      before
        ? {
          ...before,
          cumulative: before.cumulative.map((n, i) => n + series.cumulative[i]!),
          sum: before.sum + series.sum,
          count: before.count + series.count,
        }
        : series,
    );
  }
  return [...merged.values()];
}

/** Items of `parts` by a key, for looking up each worker's view of one thing. */
function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * The process's snapshot: the control isolate's own (`own`: its
 * configuration's listeners and backends, health, limiters, adaptive
 * changes, events, uptime) with the traffic of every worker's latest
 * snapshot (`workers`, those that reported) added in. Deep-frozen.
 *
 * @example
 * ```ts
 * const snapshot = mergeSnapshots(buildSnapshot(controlSources), [w0, w1]);
 * snapshot.global.requests; // w0's + w1's
 * ```
 */
export function mergeSnapshots(own: Snapshot, workers: readonly Snapshot[]): Snapshot {
  const listenersOf = byKey(workers.flatMap((w) => w.listeners), (l) => l.name);
  const listeners = own.listeners.map((l) => mergeListener(l, listenersOf.get(l.name) ?? []));
  const backendKey = (b: BackendSnapshot) => `${b.pool}\0${b.id}`;
  const backendsOf = byKey(workers.flatMap((w) => w.backends), backendKey);
  const workerEvents = workers.flatMap((w) => w.events).filter((e) => !CONTROL_KINDS.has(e.kind));
  const p95s = workers.map((w) => w.healthyP95).filter((p): p is number => p !== null);
  const tracing = workers.flatMap((w) => w.tracing ? [w.tracing] : []);
  const ws = workers.map((w) => w.websocket);
  const global = sumGlobal(workers.map((w) => w.global));
  return deepFreeze({
    ...own,
    listen: listeners[0]?.url ?? own.listen,
    listeners,
    global: workers.length === 0 ? own.global : global,
    connections: workers.length === 0
      ? own.connections
      : mergeConnections(workers.map((w) => w.connections)),
    durations: mergeDurations(workers.map((w) => w.durations)),
    backends: own.backends.map((b) => mergeBackend(b, backendsOf.get(backendKey(b)) ?? [])),
    healthyP95: p95s.length === 0 ? null : Math.max(...p95s),
    limiter: listeners[0]?.limiter ?? own.limiter,
    events: [...own.events, ...workerEvents]
      .sort((a, b) => b.time - a.time)
      .slice(0, SNAPSHOT_EVENTS),
    ...(tracing.length > 0
      ? {
        tracing: {
          spansExported: sum(tracing, (t) => t.spansExported),
          spansDropped: sum(tracing, (t) => t.spansDropped),
        },
      }
      : {}),
    websocket: {
      open: [...byKey(ws.flatMap((w) => w.open), (o) => `${o.listener}\0${o.pool}`).values()]
        .map((g) => ({ ...g[0]!, open: sum(g, (o) => o.open) })),
      pools: [...byKey(ws.flatMap((w) => w.pools), (p) => p.pool).values()].map((g) => ({
        pool: g[0]!.pool,
        sessions: sum(g, (p) => p.sessions),
        bytesToBackend: sum(g, (p) => p.bytesToBackend),
        bytesToClient: sum(g, (p) => p.bytesToClient),
      })),
    },
  });
}
