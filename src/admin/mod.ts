/**
 * The admin API: health, status, Prometheus metrics, reload and drain, and
 * the web dashboard it serves; and the metrics listener, which serves only
 * the metrics.
 *
 * @module
 */

export {
  type AdminControl,
  createAdminHandler,
  createMetricsHandler,
  type MetricsSource,
} from "./routes.ts";
export {
  type DrainStatus,
  type DrainView,
  type EventView,
  type HealthView,
  type HistoryPointView,
  type ReloadResult,
  type ReloadView,
  type StatusView,
} from "./views.ts";
export { authorized } from "./auth.ts";
export { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";
export { DASHBOARD_CSP } from "./web/assets.ts";
export { MAX_DASHBOARD_STREAMS, STREAM_RETRY_MS } from "./web/stream.ts";
