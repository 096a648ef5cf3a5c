/**
 * The per-backend state families of `/metrics`: health, availability,
 * breaker, warm-up, weight, latency percentiles and bytes, each sample
 * labelled with the backend's pool and URL (the same URL may serve two
 * pools, as two backends).
 *
 * @module
 */

import type { BackendSnapshot } from "../snapshot/mod.ts";
import type { MetricType, Sample } from "./_exposition.ts";

const BREAKER_STATES = ["closed", "open", "half_open"] as const;
const QUANTILES = [["0.5", "p50"], ["0.95", "p95"], ["0.99", "p99"]] as const;

/** Writes one family. */
type Emit = (name: string, type: MetricType, help: string, samples: readonly Sample[]) => void;

/** Emits every backend-state family for `backends`. */
export function backendStateFamilies(backends: readonly BackendSnapshot[], emit: Emit): void {
  const perBackend = (value: (b: BackendSnapshot) => number): Sample[] =>
    backends.map((b) => ({ labels: { pool: b.pool, backend: b.id }, value: value(b) }));
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
}
