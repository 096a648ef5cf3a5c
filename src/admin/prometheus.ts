/**
 * `/metrics`: a {@linkcode Snapshot} rendered in the Prometheus text
 * exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/).
 *
 * It is a pure function of the snapshot, so a scrape never touches the
 * live counters and two scrapes of the same tick read the same. Every
 * family gets `# HELP` and `# TYPE` lines followed by all of its samples;
 * a family with nothing to report (no backends yet, no rejects) is left
 * out, as client libraries do, rather than printed as a bare header. No
 * timestamps: the scraper stamps samples itself, which is what the format
 * recommends for a live target.
 *
 * Series carry the listener (`listener`) or the pool and backend (`pool`,
 * `backend`) they are about, as labels on the same names: a configuration
 * with one listener and one pool (the flat form's, both `default`) has one
 * series per family where the seed had one.
 *
 * The first nine family names come from the seed's "Prometheus Metrics"
 * list and are kept exactly, although three of them break Prometheus's
 * naming conventions (`promtool check metrics` says so): the `_ms`
 * latencies are not in base units, and `proxy_total_connections` is a
 * counter without the `_total` suffix. Dashboards built on the seed's
 * names keep working; everything added here follows the conventions.
 *
 * @module
 */

import { DURATION_BUCKETS, STATUS_CLASSES } from "../metrics/mod.ts";
import { REFUSALS } from "../server/mod.ts";
import type { BackendSnapshot, ListenerSnapshot, Snapshot } from "../snapshot/mod.ts";
import { family, formatBound, type MetricType, type Sample } from "./_exposition.ts";
import { backendStateFamilies } from "./_backend_families.ts";
import { emitUdpFamilies } from "./_l4_metrics.ts";

/** The `Content-Type` of {@linkcode renderPrometheus}'s output (format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What only the caller knows, for {@linkcode renderPrometheus}. */
export interface PrometheusExtra {
  /** The admin listen address, shown as the `admin_listen` label of `proxy_info`; omitted when absent. */
  readonly adminListen?: string;
  /** Whether Aegis is draining for shutdown (`proxy_draining`); `false` by default. */
  readonly draining?: boolean;
}

/**
 * Renders `snapshot` as Prometheus text exposition format 0.0.4, ending in
 * a newline. Serve it with {@linkcode PROMETHEUS_CONTENT_TYPE}.
 *
 * @example
 * ```ts
 * const body = renderPrometheus(aegis.snapshot, { adminListen: "127.0.0.1:9091" });
 * return new Response(body, { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
 * ```
 */
export function renderPrometheus(snapshot: Snapshot, extra: PrometheusExtra = {}): string {
  const out: string[] = [];
  const backends = snapshot.backends;
  const listeners = snapshot.listeners;
  const one = (value: number): Sample[] => [{ value }];
  const perListener = (value: (l: ListenerSnapshot) => number): Sample[] =>
    listeners.map((l) => ({ labels: { listener: l.name }, value: value(l) }));
  const perBackend = (value: (b: BackendSnapshot) => number): Sample[] =>
    backends.map((b) => ({ labels: { pool: b.pool, backend: b.id }, value: value(b) }));
  const emit = (name: string, type: MetricType, help: string, samples: readonly Sample[]) =>
    family(out, name, type, help, samples);

  // The seed's names, kept verbatim (see the module doc for the lint they draw).
  emit(
    "proxy_active_connections",
    "gauge",
    "Client connections open now.",
    perListener((l) => l.connections.active),
  );
  emit(
    "proxy_total_connections",
    "counter",
    "Client connections accepted since start.",
    perListener((l) => l.connections.total),
  );
  emit(
    "proxy_bytes_sent_total",
    "counter",
    "Bytes sent to clients (response bodies).",
    perListener((l) => l.traffic.bytesOut),
  );
  emit(
    "proxy_bytes_received_total",
    "counter",
    "Bytes received from clients (request bodies).",
    perListener((l) => l.traffic.bytesIn),
  );
  const latency = backends.map((b) => b.metrics.latency).filter((l) => l.count > 0);
  const samples = latency.reduce((n, l) => n + l.count, 0);
  // Weighted by sample count, so this is the mean of the pooled samples,
  // not an average of averages in which an idle backend weighs as much as a busy one.
  const mean = samples === 0 ? 0 : latency.reduce((s, l) => s + l.mean * l.count, 0) / samples;
  emit(
    "proxy_latency_avg_ms",
    "gauge",
    "Mean time to response headers over every backend's live latency samples, in ms (0 without samples).",
    one(mean),
  );
  // A true P99 would need the pooled samples, which the snapshot does not
  // carry; the highest backend P99 is an upper bound on it and says which way to look.
  emit(
    "proxy_latency_p99_ms",
    "gauge",
    "Highest backend P99 time to response headers over live samples, in ms; an upper bound on the overall P99 (0 without samples).",
    one(latency.reduce((max, l) => Math.max(max, l.p99), 0)),
  );
  emit(
    "proxy_backend_connections",
    "gauge",
    "Requests in flight to the backend.",
    perBackend((b) => b.metrics.inFlight),
  );
  emit(
    "proxy_backend_requests_total",
    "counter",
    "Requests sent to the backend, retries included.",
    perBackend((b) => b.metrics.requests),
  );
  emit(
    "proxy_backend_failures_total",
    "counter",
    "Requests that failed at the backend (5xx, timeout, connection error).",
    perBackend((b) => b.metrics.errors),
  );

  // Traffic as clients see it.
  emit(
    "proxy_requests_total",
    "counter",
    "Requests received from clients.",
    perListener((l) => l.traffic.requests),
  );
  emit(
    "proxy_responses_total",
    "counter",
    "Responses sent to clients, by status class.",
    listeners.flatMap((l) =>
      STATUS_CLASSES.map((c) => ({
        labels: { listener: l.name, status_class: c },
        value: l.traffic.responses[c],
      }))
    ),
  );
  emit(
    "proxy_request_duration_seconds",
    "histogram",
    "Time from request arrival to the end of the response, by listener, pool and backend (- when Aegis answered itself) and status class.",
    snapshot.durations.flatMap((s) => {
      const labels = {
        listener: s.listener,
        pool: s.pool,
        backend: s.backend,
        status_class: s.statusClass,
      };
      return [
        ...DURATION_BUCKETS.map((bound, i) => ({
          suffix: "_bucket",
          labels: { ...labels, le: formatBound(bound) },
          value: s.cumulative[i] ?? s.count,
        })),
        // +Inf is the count by definition; writing the count itself keeps the two equal.
        { suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: s.count },
        { suffix: "_sum", labels, value: s.sum },
        { suffix: "_count", labels, value: s.count },
      ];
    }),
  );
  emit(
    "proxy_rate_limited_total",
    "counter",
    "Requests refused with 429 by the rate limiter.",
    perListener((l) => l.traffic.rateLimited),
  );
  emit(
    "proxy_requests_rejected_total",
    "counter",
    "Requests refused by request validation or routing, by reason.",
    listeners.flatMap((l) =>
      Object.entries(l.traffic.rejects).map(([reason, value]) => ({
        labels: { listener: l.name, reason },
        value,
      }))
    ),
  );

  // Each listener's connection limits.
  emit(
    "proxy_connections_rejected_total",
    "counter",
    "Client connections closed at once, by why: a limit (max_connections, per_client), the listener's networks (denied) or an L4 listener's rate limit (rate_limited).",
    listeners.flatMap((l) =>
      REFUSALS.map((reason) => ({
        labels: { listener: l.name, reason },
        value: l.connections.rejected[reason],
      }))
    ),
  );
  emit(
    "proxy_accept_errors_total",
    "counter",
    "Failed accepts of client connections (out of file descriptors and the like).",
    perListener((l) => l.connections.acceptErrors),
  );
  emit(
    "proxy_tls_certificate_expiry_seconds",
    "gauge",
    "Seconds until each certificate a TLS listener serves expires (negative once expired).",
    listeners.flatMap((l) =>
      (l.certificates ?? []).map((c) => ({
        labels: { listener: l.name, subject: c.subject },
        value: Math.round((c.notAfter - snapshot.time) / 1000),
      }))
    ),
  );
  emit(
    "proxy_max_connections",
    "gauge",
    "Most client connections open at once (max_connections, resolved when auto).",
    perListener((l) => l.connections.maxConnections),
  );
  emit(
    "proxy_max_connections_per_client",
    "gauge",
    "Most connections open at once from one client (max_connections_per_client).",
    perListener((l) => l.connections.maxConnectionsPerClient),
  );

  backendStateFamilies(backends, emit);

  // Each listener's rate limiter.
  emit(
    "proxy_rate_limit_rate",
    "gauge",
    "Requests per second each client may make now (the adaptive rate).",
    perListener((l) => l.limiter.rate),
  );
  emit(
    "proxy_rate_limit_tracked_clients",
    "gauge",
    "Clients with a token bucket now.",
    perListener((l) => l.limiter.trackedClients),
  );
  emit(
    "proxy_rate_limit_evictions_total",
    "counter",
    "Token buckets dropped because the tracked-client cap was reached.",
    perListener((l) => l.limiter.evictions),
  );
  const shared = listeners.filter((l) => l.limiter.store);
  emit(
    "proxy_rate_limit_store_up",
    "gauge",
    "1 while the listener's limits are shared through its store (rate_limit.store), 0 while it is unreachable and each instance limits alone.",
    shared.map((l) => ({
      labels: { listener: l.name },
      value: l.limiter.store!.status === "up" ? 1 : 0,
    })),
  );
  emit(
    "proxy_rate_limit_store_sync_failures_total",
    "counter",
    "Syncs with the shared rate limit store that failed or timed out.",
    shared.map((l) => ({ labels: { listener: l.name }, value: l.limiter.store!.failedSyncs })),
  );

  emitUdpFamilies(emit, listeners);

  const ws = snapshot.websocket;
  emit(
    "proxy_websocket_connections",
    "gauge",
    "WebSocket sessions open now.",
    ws.open.map((o) => ({ labels: { listener: o.listener, pool: o.pool }, value: o.open })),
  );
  emit(
    "proxy_websocket_sessions_total",
    "counter",
    "WebSocket sessions relayed (the backend accepted the upgrade).",
    ws.pools.map((p) => ({ labels: { pool: p.pool }, value: p.sessions })),
  );
  emit(
    "proxy_websocket_bytes_total",
    "counter",
    "WebSocket message payload bytes relayed, by direction (to_backend, to_client).",
    ws.pools.flatMap((p) => [
      { labels: { pool: p.pool, direction: "to_backend" }, value: p.bytesToBackend },
      { labels: { pool: p.pool, direction: "to_client" }, value: p.bytesToClient },
    ]),
  );

  if (snapshot.tracing) {
    emit(
      "proxy_tracing_spans_exported_total",
      "counter",
      "Spans the tracing collector accepted.",
      one(snapshot.tracing.spansExported),
    );
    emit(
      "proxy_tracing_spans_dropped_total",
      "counter",
      "Spans dropped: export queue full, collector down, failing or slow, or left at shutdown.",
      one(snapshot.tracing.spansDropped),
    );
  }

  // The process.
  emit(
    "proxy_uptime_seconds",
    "gauge",
    "Seconds since Aegis started.",
    one(snapshot.uptimeMs / 1000),
  );
  emit("proxy_info", "gauge", "Always 1; the labels describe the running Aegis.", [{
    labels: {
      version: snapshot.version,
      listen: snapshot.listen,
      ...(extra.adminListen === undefined ? {} : { admin_listen: extra.adminListen }),
    },
    value: 1,
  }]);
  emit(
    "proxy_draining",
    "gauge",
    "1 while Aegis drains connections for shutdown, else 0.",
    one(extra.draining ? 1 : 0),
  );

  return out.join("\n") + "\n";
}
