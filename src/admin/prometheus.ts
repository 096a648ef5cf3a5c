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
import type { BackendSnapshot, Snapshot } from "../snapshot/mod.ts";
import { family, formatBound, type MetricType, type Sample } from "./_exposition.ts";

/** The `Content-Type` of {@linkcode renderPrometheus}'s output (format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What only the caller knows, for {@linkcode renderPrometheus}. */
export interface PrometheusExtra {
  /** The admin listen address, shown as the `admin_listen` label of `proxy_info`; omitted when absent. */
  readonly adminListen?: string;
  /** Whether Aegis is draining for shutdown (`proxy_draining`); `false` by default. */
  readonly draining?: boolean;
}

const BREAKER_STATES = ["closed", "open", "half_open"] as const;
const QUANTILES = [["0.5", "p50"], ["0.95", "p95"], ["0.99", "p99"]] as const;

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
  const g = snapshot.global;
  const backends = snapshot.backends;
  const one = (value: number): Sample[] => [{ value }];
  const perBackend = (value: (b: BackendSnapshot) => number): Sample[] =>
    backends.map((b) => ({ labels: { pool: b.pool, backend: b.id }, value: value(b) }));
  const emit = (name: string, type: MetricType, help: string, samples: readonly Sample[]) =>
    family(out, name, type, help, samples);

  // The seed's names, kept verbatim (see the module doc for the lint they draw).
  emit(
    "proxy_active_connections",
    "gauge",
    "Client connections open now.",
    one(g.activeConnections),
  );
  emit(
    "proxy_total_connections",
    "counter",
    "Client connections accepted since start.",
    one(g.totalConnections),
  );
  emit(
    "proxy_bytes_sent_total",
    "counter",
    "Bytes sent to clients (response bodies).",
    one(g.bytesOut),
  );
  emit(
    "proxy_bytes_received_total",
    "counter",
    "Bytes received from clients (request bodies).",
    one(g.bytesIn),
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
  emit("proxy_requests_total", "counter", "Requests received from clients.", one(g.requests));
  emit(
    "proxy_responses_total",
    "counter",
    "Responses sent to clients, by status class.",
    STATUS_CLASSES.map((c) => ({ labels: { status_class: c }, value: g.responses[c] })),
  );
  emit(
    "proxy_request_duration_seconds",
    "histogram",
    "Time from request arrival to the end of the response, by backend (- when Aegis answered itself) and status class.",
    snapshot.durations.flatMap((s) => {
      const labels = { backend: s.backend, status_class: s.statusClass };
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
    one(g.rateLimited),
  );
  emit(
    "proxy_requests_rejected_total",
    "counter",
    "Requests refused by request validation, by reason.",
    Object.entries(g.rejects).map(([reason, value]) => ({ labels: { reason }, value })),
  );

  // The public listener's connection limits.
  const c = snapshot.connections;
  emit(
    "proxy_connections_rejected_total",
    "counter",
    "Client connections closed at once because a limit was reached, by limit (max_connections, per_client).",
    (["max_connections", "per_client"] as const).map((reason) => ({
      labels: { reason },
      value: c.rejected[reason],
    })),
  );
  emit(
    "proxy_accept_errors_total",
    "counter",
    "Failed accepts of client connections (out of file descriptors and the like).",
    one(c.acceptErrors),
  );
  emit(
    "proxy_max_connections",
    "gauge",
    "Most client connections open at once (server.max_connections, resolved when auto).",
    one(c.maxConnections),
  );
  emit(
    "proxy_max_connections_per_client",
    "gauge",
    "Most connections open at once from one client (server.max_connections_per_client).",
    one(c.maxConnectionsPerClient),
  );

  // Backend state.
  emit(
    "proxy_backend_up",
    "gauge",
    "1 when active health checks find the backend healthy, else 0.",
    perBackend((b) => (b.health === "healthy" ? 1 : 0)),
  );
  emit(
    "proxy_backend_available",
    "gauge",
    "1 when the backend may take a request now (healthy and its breaker admits), else 0.",
    perBackend((b) => (b.available ? 1 : 0)),
  );
  emit(
    "proxy_backend_circuit_state",
    "gauge",
    "Circuit breaker state: 1 for the current state, 0 for the others.",
    backends.flatMap((b) =>
      BREAKER_STATES.map((state) => ({
        labels: { pool: b.pool, backend: b.id, state },
        value: b.breaker.state === state ? 1 : 0,
      }))
    ),
  );
  emit(
    "proxy_backend_circuit_opens_total",
    "counter",
    "Times the backend's circuit breaker has opened.",
    perBackend((b) => b.breaker.opens),
  );
  emit(
    "proxy_backend_warmup_ratio",
    "gauge",
    "Share of its configured weight the backend has warmed up to, 0 to 1.",
    perBackend((b) => b.warmupPercent / 100),
  );
  emit(
    "proxy_backend_weight",
    "gauge",
    "Weight in force now (warm-up applied; 0 while unhealthy).",
    perBackend((b) => b.effectiveWeight),
  );
  // A gauge with a `percentile` label, not a summary: a summary's _sum and
  // _count must be cumulative, and the snapshot has only the sliding
  // window's, which shrink as samples age out (and `quantile` is reserved
  // for summaries).
  emit(
    "proxy_backend_latency_seconds",
    "gauge",
    "Time to response headers over the backend's live samples, by percentile (nearest rank), in seconds (0 without samples).",
    backends.flatMap((b) =>
      QUANTILES.map(([percentile, key]) => ({
        labels: { pool: b.pool, backend: b.id, percentile },
        value: b.metrics.latency[key] / 1000,
      }))
    ),
  );
  emit(
    "proxy_backend_bytes_sent_total",
    "counter",
    "Bytes sent to the backend (request bodies).",
    perBackend((b) => b.metrics.bytesOut),
  );
  emit(
    "proxy_backend_bytes_received_total",
    "counter",
    "Bytes received from the backend (response bodies).",
    perBackend((b) => b.metrics.bytesIn),
  );

  // The rate limiter.
  const limiter = snapshot.limiter;
  emit(
    "proxy_rate_limit_rate",
    "gauge",
    "Requests per second each client may make now (the adaptive rate).",
    one(limiter.rate),
  );
  emit(
    "proxy_rate_limit_tracked_clients",
    "gauge",
    "Clients with a token bucket now.",
    one(limiter.trackedClients),
  );
  emit(
    "proxy_rate_limit_evictions_total",
    "counter",
    "Token buckets dropped because the tracked-client cap was reached.",
    one(limiter.evictions),
  );

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
