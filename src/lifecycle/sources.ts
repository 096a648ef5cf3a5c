/**
 * What snapshots read, from the parts the lifecycle owns: the runtime in
 * force (pools, listeners' limiters), the listeners' sockets (addresses,
 * connection counts and limits), and the counters every runtime shares.
 *
 * @module
 */

import type { Shared } from "../runtime/mod.ts";
import type { Server } from "../server/mod.ts";
import type { ConnectionsSource, SnapshotSources } from "../snapshot/mod.ts";
import type { TracingCounters } from "../tracing/mod.ts";
import type { CurrentRuntime } from "./current.ts";
import type { UdpListener } from "./l4_listeners.ts";
import type { Listener } from "./listener.ts";
import type { ListenerSet } from "./listener_set.ts";

/** The listener as a udp one, if it is. */
function udpOf(listener: Listener | undefined): UdpListener | undefined {
  return listener?.protocol === "udp" ? listener as UdpListener : undefined;
}

/** The parts a snapshot is read from. */
export interface SourceParts {
  readonly version: string;
  readonly shared: Shared;
  readonly current: CurrentRuntime;
  readonly listeners: ListenerSet;
  /** Span export counters, for `/metrics`. */
  readonly tracing?: TracingCounters;
}

/**
 * Snapshot sources over the running parts: every read goes through the
 * runtime and the sockets in force when the snapshot is built.
 *
 * @example
 * ```ts
 * const snapshots = new Snapshotter(snapshotSources({ version, shared, current, listeners }), 1000);
 * ```
 */
export function snapshotSources(parts: SourceParts): SnapshotSources {
  const { shared, current, listeners } = parts;
  /** What a set of sockets reports: every socket of one listener, or all of them. */
  const connections = (servers: readonly Server[]): ConnectionsSource => {
    const sum = (read: (s: Server) => number) => servers.reduce((n, s) => n + read(s), 0);
    return {
      active: sum((s) => s.connections),
      total: sum((s) => s.accepted),
      maxConnections: sum((s) => s.limits.maxConnections),
      maxConnectionsPerClient: Math.max(0, ...servers.map((s) => s.limits.maxPerClient)),
      rejected: {
        max_connections: sum((s) => s.rejected.max_connections),
        per_client: sum((s) => s.rejected.per_client),
        denied: sum((s) => s.screened?.denied ?? 0),
        rate_limited: sum((s) => s.screened?.rate_limited ?? 0),
      },
      acceptErrors: sum((s) => s.acceptErrors),
    };
  };
  return {
    version: parts.version,
    startedAt: Date.now(),
    pools: () => [...current.runtime.pools].map(([name, p]) => [name, p.pool] as const),
    listeners: () =>
      [...current.runtime.listeners.values()].map((l) => ({
        name: l.name,
        protocol: l.config.protocol,
        udp: () => udpOf(listeners.get(l.name))?.udp(),
        url: listeners.get(l.name)?.url ?? "",
        pools: l.pools,
        limiter: () => l.limiterView(),
        lastRateChange: () => shared.rateChanges.get(l.name),
        stats: shared.stats.get(l.name),
        connections: () => connections(listeners.socketsOf(l.name).map((s) => s.server)),
        certificates: () => listeners.get(l.name)?.server.certificates ?? [],
      })),
    stats: shared.stats,
    durations: shared.durations,
    connections: () => connections(listeners.sockets.map((l) => l.server)),
    events: shared.events,
    clock: shared.clock,
    webSockets: shared.webSockets,
    ...(parts.tracing ? { tracing: parts.tracing } : {}),
  };
}
