/**
 * The admin API: health, status, Prometheus metrics, reload and drain; and
 * the metrics listener, which serves only the metrics.
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
  type ReloadResult,
  type ReloadView,
  type StatusView,
} from "./views.ts";
export { authorized } from "./auth.ts";
export { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";
