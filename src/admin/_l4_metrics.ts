/**
 * The metric families of udp listeners: the NAT session table and the
 * datagrams through it, one series per listener (and per reason or
 * direction). tcp listeners need none of their own: their connections and
 * bytes are the seed's `proxy_active_connections`, `proxy_total_connections`
 * and `proxy_bytes_*` families, labelled by listener like every other.
 *
 * @module
 */

import { DROP_REASONS } from "../l4/mod.ts";
import type { ListenerSnapshot, UdpSnapshot } from "../snapshot/mod.ts";
import type { MetricType, Sample } from "./_exposition.ts";

/** Writes one family; see `prometheus.ts`. */
type Emit = (name: string, type: MetricType, help: string, samples: readonly Sample[]) => void;

/** Emits the udp families for the udp listeners among `listeners` (nothing when there are none). */
export function emitUdpFamilies(emit: Emit, listeners: readonly ListenerSnapshot[]): void {
  const udp = listeners.flatMap((l) => (l.udp ? [[l.name, l.udp] as const] : []));
  if (udp.length === 0) return;
  const each = (value: (u: UdpSnapshot) => number): Sample[] =>
    udp.map(([listener, u]) => ({ labels: { listener }, value: value(u) }));
  emit(
    "proxy_udp_sessions",
    "gauge",
    "NAT sessions open now: one per client address and port, each with its own socket to its backend.",
    each((u) => u.activeSessions),
  );
  emit(
    "proxy_udp_sessions_total",
    "counter",
    "NAT sessions opened.",
    each((u) => u.sessionsCreated),
  );
  emit(
    "proxy_udp_sessions_ended_total",
    "counter",
    "NAT sessions ended, by why: expired (no datagram for udp.session_timeout), evicted (udp.max_sessions reached), revoked (a reload denied the client).",
    udp.flatMap(([listener, u]) => [
      { labels: { listener, reason: "expired" }, value: u.sessionsExpired },
      { labels: { listener, reason: "evicted" }, value: u.sessionsEvicted },
      { labels: { listener, reason: "revoked" }, value: u.sessionsRevoked },
    ]),
  );
  emit(
    "proxy_udp_packets_total",
    "counter",
    "Datagrams relayed, by direction (to_backend, to_client).",
    udp.flatMap(([listener, u]) => [
      { labels: { listener, direction: "to_backend" }, value: u.packetsToBackend },
      { labels: { listener, direction: "to_client" }, value: u.packetsToClient },
    ]),
  );
  emit(
    "proxy_udp_dropped_total",
    "counter",
    "Datagrams dropped, by reason.",
    udp.flatMap(([listener, u]) =>
      DROP_REASONS.map((reason) => ({ labels: { listener, reason }, value: u.drops[reason] }))
    ),
  );
  emit(
    "proxy_udp_upstream_failures_total",
    "counter",
    "Sessions whose backend failed them (a send error, or no reply within udp.reply_timeout).",
    each((u) => u.upstreamFailures),
  );
}
