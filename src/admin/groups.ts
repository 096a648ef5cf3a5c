/**
 * `/health` and `/status` grouped by listener and by pool: plain data views
 * of one snapshot, keys in snake_case. A listener is as healthy as the pools
 * its routes reach: `ok` when every one has a backend that can take a
 * request, `unavailable` when none has, `degraded` in between.
 *
 * @module
 */

import type { BackendSnapshot, ListenerSnapshot, Snapshot, UdpSnapshot } from "../snapshot/mod.ts";
import { limiterView } from "./limiter_view.ts";

/** Whether a pool, or a listener through its pools, can serve now. */
export type GroupStatus = "ok" | "degraded" | "unavailable";

/** Each pool's backends, in configuration order. */
function byPool(snap: Snapshot): Map<string, BackendSnapshot[]> {
  const pools = new Map<string, BackendSnapshot[]>();
  for (const b of snap.backends) {
    const list = pools.get(b.pool);
    if (list) list.push(b);
    else pools.set(b.pool, [b]);
  }
  return pools;
}

function listenerStatus(l: ListenerSnapshot, up: ReadonlySet<string>): GroupStatus {
  const serving = l.pools.filter((p) => up.has(p)).length;
  return serving === l.pools.length ? "ok" : serving === 0 ? "unavailable" : "degraded";
}

/**
 * `/health`'s groups: each pool with how many of its backends can take a
 * request, each listener with the pools it reaches.
 *
 * @example
 * ```ts
 * healthGroups(snapshot).listeners; // [{ name: "web", address: "…", status: "ok", pools: ["api"] }]
 * ```
 */
export function healthGroups(snap: Snapshot) {
  const pools = [...byPool(snap)].map(([name, backends]) => {
    const available = backends.filter((b) => b.available).length;
    return {
      name,
      status: (available > 0 ? "ok" : "unavailable") as GroupStatus,
      available,
      backends: backends.length,
    };
  });
  const up = new Set(pools.filter((p) => p.status === "ok").map((p) => p.name));
  return {
    listeners: snap.listeners.map((l) => ({
      name: l.name,
      protocol: l.protocol,
      address: l.url,
      status: listenerStatus(l, up),
      pools: l.pools,
    })),
    pools,
  };
}

/**
 * `/status`'s groups: each listener's traffic, connections and limiter;
 * each pool's backends by URL with how many are healthy and available.
 */
export function statusGroups(snap: Snapshot) {
  return {
    listeners: snap.listeners.map((l) => ({
      name: l.name,
      protocol: l.protocol,
      address: l.url,
      pools: l.pools,
      ...(l.udp ? { udp: udpView(l.udp) } : {}),
      requests: l.traffic.requests,
      responses: l.traffic.responses,
      rate_limited: l.traffic.rateLimited,
      rejects: l.traffic.rejects,
      bytes_in: l.traffic.bytesIn,
      bytes_out: l.traffic.bytesOut,
      connections: {
        active: l.connections.active,
        total: l.connections.total,
        max_connections: l.connections.maxConnections,
        max_connections_per_client: l.connections.maxConnectionsPerClient,
        rejected: l.connections.rejected,
        accept_errors: l.connections.acceptErrors,
      },
      healthy_p95_ms: l.healthyP95,
      limiter: limiterView(l.limiter),
    })),
    pools: [...byPool(snap)].map(([name, backends]) => ({
      name,
      backends: backends.map((b) => b.id),
      healthy: backends.filter((b) => b.health === "healthy").length,
      available: backends.filter((b) => b.available).length,
    })),
  };
}

/** A udp listener's NAT table and datagrams, keys in snake_case. */
function udpView(u: UdpSnapshot) {
  return {
    active_sessions: u.activeSessions,
    sessions_created: u.sessionsCreated,
    sessions_expired: u.sessionsExpired,
    sessions_evicted: u.sessionsEvicted,
    sessions_revoked: u.sessionsRevoked,
    upstream_failures: u.upstreamFailures,
    packets_to_backend: u.packetsToBackend,
    bytes_to_backend: u.bytesToBackend,
    packets_to_client: u.packetsToClient,
    bytes_to_client: u.bytesToClient,
    drops: { ...u.drops },
  };
}
