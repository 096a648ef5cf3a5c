/**
 * The admin API: a small JSON control surface on its own listener
 * (`admin.address`, loopback by default), never on the public one.
 *
 * - `GET /health`: overall status and each backend's health, breaker and
 *   warm-up, grouped by pool and listener too; 200 while at least one
 *   backend can take traffic, else 503.
 * - `GET /status`: version, uptime, listen addresses, the running
 *   configuration (secrets redacted), connection limits and refusals,
 *   per-backend counters and percentiles, the limiter, each listener's
 *   traffic and limiter, each pool's backends, drain progress and recent
 *   events.
 * - `GET /metrics`: Prometheus text format 0.0.4.
 * - `POST /reload`: re-read and validate the configuration file; swap only
 *   if it is valid (400 with every problem otherwise).
 * - `POST /drain`: stop accepting client connections and let the ones in
 *   progress finish; progress shows in `/status`.
 * - `GET /`, `/dashboard.js`, `/dashboard.css`: the web dashboard's page
 *   (`web/assets.ts`), and `GET /stream`: its live feed (`web/stream.ts`).
 *
 * Mutating endpoints and the stream need `Authorization: Bearer
 * <admin.token>` when a token is configured. Everything an endpoint reads
 * comes from a snapshot; what it answers is a plain view with snake_case
 * keys (`views.ts`).
 *
 * The metrics listener (`admin.metrics_address`) serves the same
 * `GET /metrics` route and nothing else, so a scraper never needs the
 * admin API.
 *
 * @module
 */

import { type Config, printableConfig } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { HistoryPoint, Snapshot } from "../snapshot/mod.ts";
import { authorized } from "./auth.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";
import { assetResponse, ASSETS } from "./web/assets.ts";
import { type DashboardFrame, DashboardStreams, STREAM_RETRY_MS } from "./web/stream.ts";
import {
  type DrainStatus,
  drainView,
  healthView,
  type ReloadResult,
  reloadView,
  type StatusInputs,
  statusView,
} from "./views.ts";

/** What `GET /metrics` reads: all the metrics listener is given. */
export interface MetricsSource {
  /** A fresh snapshot. */
  snapshot(): Snapshot;
  /** Drain progress (`proxy_draining`). */
  drainStatus(): DrainStatus;
}

/** What the admin API controls and reads. */
export interface AdminControl extends MetricsSource {
  /** The last 15 minutes of headline figures, oldest first (the web dashboard's charts). */
  history(): readonly HistoryPoint[];
  /** Aborted when the admin listener is about to close: open dashboard streams end then. */
  readonly closing: AbortSignal;
  /** The running configuration. */
  config(): Config;
  /** The admin listener's address, e.g. `http://127.0.0.1:9090`. */
  readonly adminListen: string;
  /** The metrics listener's address, e.g. `http://127.0.0.1:9091`; `""` when there is none. */
  readonly metricsListen: string;
  /** Re-reads the configuration file. */
  reload(): Promise<ReloadResult>;
  /** Starts draining (idempotent). */
  drain(): void;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** What a handler reads: what its listener offers (`C`), the request, the open streams. */
interface Call<C = AdminControl> {
  readonly control: C;
  readonly request: Request;
  /** The dashboard streams open on this listener. */
  readonly streams: DashboardStreams;
}

/** A request handler of the admin API. */
type Handler<C> = (call: Call<C>) => Response | Promise<Response>;

/** One admin endpoint, answered with what a `C` offers. */
interface Route<C = AdminControl> {
  /** The path, matched exactly. */
  readonly path: string;
  /**
   * The method it answers. A GET route answers HEAD too (RFC 9110 §9.3.2:
   * the same answer without content; the server drops the body).
   */
  readonly method: "GET" | "POST";
  /** Whether it needs `Authorization: Bearer <admin.token>` (when a token is set). */
  readonly auth: boolean;
  /** Answers an admitted request. */
  readonly handler: Handler<C>;
}

/** `GET /metrics`, on the admin listener and alone on the metrics listener. */
const METRICS: Route<MetricsSource> = {
  path: "/metrics",
  method: "GET",
  auth: false,
  handler: metrics,
};

/**
 * Every endpoint of the admin listener, the one table its dispatcher reads:
 * a path not here is 404, a path here asked with another method is 405. Reads need no token;
 * whatever changes the running proxy does, and so does the dashboard's
 * stream (the issue asks for the token there; the page's files hold no data).
 */
const ROUTES: readonly Route[] = [
  { path: "/health", method: "GET", auth: false, handler: health },
  { path: "/status", method: "GET", auth: false, handler: status },
  METRICS,
  { path: "/reload", method: "POST", auth: true, handler: reload },
  { path: "/drain", method: "POST", auth: true, handler: drain },
  ...ASSETS.map((asset): Route => ({
    path: asset.path,
    method: "GET",
    auth: false,
    handler: () => assetResponse(asset),
  })),
  { path: "/stream", method: "GET", auth: true, handler: stream },
];

/** Routes by path; a path may list several methods. */
type RouteTable<C> = ReadonlyMap<string, readonly Route<C>[]>;

const ADMIN_TABLE: RouteTable<AdminControl> = Map.groupBy(ROUTES, (r) => r.path);
const METRICS_TABLE: RouteTable<MetricsSource> = Map.groupBy([METRICS], (r) => r.path);

/** Whether `route` answers `method`. */
function answers(route: Pick<Route, "method">, method: string): boolean {
  return method === route.method || (route.method === "GET" && method === "HEAD");
}

/**
 * The route of `table` that answers `request`, or the answer when none
 * does: 404 for a path not in the table, 405 for another method.
 */
function match<C>(table: RouteTable<C>, request: Request): Route<C> | Response {
  const routes = table.get(new URL(request.url).pathname);
  if (!routes) return json(404, { error: "not found" });
  const route = routes.find((r) => answers(r, request.method));
  if (route) return route;
  // Allow lists every method the path answers, HEAD included where GET is (RFC 9110 §10.2.1).
  const allowed = routes.flatMap((r) => r.method === "GET" ? ["GET", "HEAD"] : [r.method]);
  return json(405, { error: "method not allowed" }, { allow: allowed.join(", ") });
}

/** Builds the admin request handler. */
export function createAdminHandler(
  control: AdminControl,
  logger: Logger,
): (request: Request) => Promise<Response> {
  const streams = new DashboardStreams();
  return async (request) => {
    const route = match(ADMIN_TABLE, request);
    if (route instanceof Response) return route;
    const { path } = route;
    if (route.auth) {
      // [SECURITY] Unauthorised control: reload and drain need the bearer
      // token when one is set (and one must be set off loopback: config checks).
      // No endpoint reads a body, so it is let go at once, before the token check.
      await request.body?.cancel();
      const ok = await authorized(
        request.headers.get("authorization"),
        control.config().admin.token,
      );
      if (!ok) {
        logger.warn("admin request refused", { path, reason: "missing or wrong bearer token" });
        return json(401, { error: "unauthorized" }, {
          "www-authenticate": 'Bearer realm="aegis-admin"',
        });
      }
    }
    return await route.handler({ control, request, streams });
  };
}

/**
 * Builds the metrics listener's request handler: `GET /metrics` (and
 * HEAD) as the admin API serves it, 404 for any other path, 405 for any
 * other method. It reads and changes nothing else, so it needs no token.
 *
 * @example
 * ```ts
 * const handler = createMetricsHandler({ snapshot, drainStatus });
 * (await handler(new Request("http://aegis/metrics"))).status; // 200
 * (await handler(new Request("http://aegis/status"))).status; // 404
 * ```
 */
export function createMetricsHandler(
  source: MetricsSource,
): (request: Request) => Promise<Response> {
  // It serves no dashboard: the set stays empty.
  const streams = new DashboardStreams();
  return async (request) => {
    const route = match(METRICS_TABLE, request);
    return route instanceof Response
      ? route
      : await route.handler({ control: source, request, streams });
  };
}

/** `GET /metrics`: Prometheus text. */
function metrics({ control }: Call<MetricsSource>): Response {
  return new Response(
    renderPrometheus(control.snapshot(), { draining: control.drainStatus().draining }),
    { headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" } },
  );
}

/** `POST /reload`: swaps in the file's configuration only if it is valid. */
async function reload({ control }: Call): Promise<Response> {
  const result = await control.reload();
  return json(result.ok ? 200 : 400, reloadView(result));
}

/** `POST /drain`: starts draining and says how far it got. */
function drain({ control }: Call): Response {
  control.drain();
  return json(202, drainView(control.drainStatus()));
}

/** `GET /health`: 200 while a backend can take traffic, else 503. */
function health({ control }: Call): Response {
  const view = healthView(control.snapshot(), control.drainStatus());
  return json(view.status === "ok" ? 200 : 503, view);
}

/** `GET /status`: everything an operator looks at, from one snapshot. */
function status({ control }: Call): Response {
  return json(
    200,
    statusView(control.snapshot(), statusInputs(control, printableConfig(control.config()))),
  );
}

/** What `GET /status` reads besides the snapshot; `config` is shown as the running one. */
function statusInputs(control: AdminControl, config: unknown): StatusInputs {
  return {
    drain: control.drainStatus(),
    adminListen: control.adminListen,
    metricsListen: control.metricsListen,
    config,
  };
}

const EVENT_STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/**
 * `GET /stream`: the web dashboard's Server-Sent Events, until the client
 * leaves or the admin listener closes; `503` while the most streams are open.
 */
function stream({ control, request, streams }: Call): Response {
  // HEAD gets the headers alone: no stream is opened for a body that is never sent.
  if (request.method === "HEAD") return new Response(null, { headers: EVENT_STREAM_HEADERS });
  const body = streams.stream({
    frame: (): DashboardFrame => {
      const snap = control.snapshot();
      const { config: _, ...status } = statusView(snap, statusInputs(control, null));
      return { time: snap.time, status };
    },
    history: () => control.history(),
    refreshMs: () => control.config().tui.refresh_interval,
  }, AbortSignal.any([control.closing, request.signal]));
  if (!body) {
    return json(503, { error: "too many dashboard streams" }, {
      "retry-after": String(STREAM_RETRY_MS / 1000),
    });
  }
  return new Response(body, { headers: EVENT_STREAM_HEADERS });
}
