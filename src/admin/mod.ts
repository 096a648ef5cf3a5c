/**
 * The admin API: health, status, Prometheus metrics, reload and drain.
 *
 * @module
 */

export {
  type AdminControl,
  createAdminHandler,
  type DrainStatus,
  type ReloadResult,
} from "./routes.ts";
export { authorized } from "./auth.ts";
export { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";
