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
 *
 * Mutating endpoints need `Authorization: Bearer <admin.token>` when a
 * token is configured. Everything an endpoint reads comes from a snapshot.
 *
 * @module
 */

import { type Config, printableConfig } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Snapshot } from "../snapshot/mod.ts";
import { authorized } from "./auth.ts";
import { healthGroups, statusGroups } from "./groups.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";

/** The outcome of a reload. */
export type ReloadResult =
  | {
    readonly ok: true;
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly kept: readonly string[];
    /** Listeners by name the reload opened, closed and moved to a new address. */
    readonly listeners: {
      readonly opened: readonly string[];
      readonly closed: readonly string[];
      readonly moved: readonly string[];
    };
  }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Where drain stands. */
export interface DrainStatus {
  /** True once draining (or shutting down) began. */
  readonly draining: boolean;
  /** Client connections still open. */
  readonly connections: number;
  /** Requests still in progress. */
  readonly inFlight: number;
}

/** What the admin API controls and reads. */
export interface AdminControl {
  /** A fresh snapshot. */
  snapshot(): Snapshot;
  /** The running configuration. */
  config(): Config;
  /** The admin listener's address, e.g. `http://127.0.0.1:9090`. */
  readonly adminListen: string;
  /** Re-reads the configuration file. */
  reload(): Promise<ReloadResult>;
  /** Starts draining (idempotent). */
  drain(): void;
  /** Drain progress. */
  drainStatus(): DrainStatus;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** A request handler of the admin API; it reads what it needs through `control`. */
type Handler = (control: AdminControl) => Response | Promise<Response>;

/** One admin endpoint. */
interface Route {
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
  readonly handler: Handler;
}

/**
 * Every endpoint, the one table the dispatcher reads: a path not here is
 * 404, a path here asked with another method is 405. Reads need no token;
 * whatever changes the running proxy does.
 */
const ROUTES: readonly Route[] = [
  { path: "/health", method: "GET", auth: false, handler: health },
  { path: "/status", method: "GET", auth: false, handler: status },
  { path: "/metrics", method: "GET", auth: false, handler: metrics },
  { path: "/reload", method: "POST", auth: true, handler: reload },
  { path: "/drain", method: "POST", auth: true, handler: drain },
];

/** The routes by path; a path may list several methods. */
const BY_PATH: ReadonlyMap<string, readonly Route[]> = Map.groupBy(ROUTES, (r) => r.path);

/** Whether `route` answers `method`. */
function answers(route: Route, method: string): boolean {
  return method === route.method || (route.method === "GET" && method === "HEAD");
}

/** Builds the admin request handler. */
export function createAdminHandler(
  control: AdminControl,
  logger: Logger,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    const routes = BY_PATH.get(path);
    if (!routes) return json(404, { error: "not found" });
    const route = routes.find((r) => answers(r, request.method));
    if (!route) {
      return json(405, { error: "method not allowed" }, {
        allow: routes.map((r) => r.method).join(", "),
      });
    }
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
    return await route.handler(control);
  };
}

/** `GET /metrics`: Prometheus text. */
function metrics(control: AdminControl): Response {
  return new Response(
    renderPrometheus(control.snapshot(), { draining: control.drainStatus().draining }),
    { headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" } },
  );
}

/** `POST /reload`: swaps in the file's configuration only if it is valid. */
async function reload(control: AdminControl): Promise<Response> {
  const result = await control.reload();
  if (!result.ok) {
    return json(400, {
      error: "invalid configuration, nothing changed",
      problems: result.problems,
    });
  }
  return json(200, {
    reloaded: true,
    added: result.added,
    removed: result.removed,
    kept: result.kept,
    listeners: result.listeners,
  });
}

/** `POST /drain`: starts draining and says how far it got. */
function drain(control: AdminControl): Response {
  control.drain();
  return json(202, control.drainStatus());
}

/** `GET /health`: 200 while a backend can take traffic, else 503. */
function health(control: AdminControl): Response {
  const snap = control.snapshot();
  const drain = control.drainStatus();
  const up = snap.backends.some((b) => b.available);
  return json(up ? 200 : 503, {
    status: up ? "ok" : "unavailable",
    draining: drain.draining,
    backends: snap.backends.map((b) => ({
      pool: b.pool,
      url: b.id,
      health: b.health,
      available: b.available,
      breaker: b.breaker.state,
      warmup_percent: b.warmupPercent,
    })),
    ...healthGroups(snap),
  });
}

/** `GET /status`: everything an operator looks at, from one snapshot. */
function status(control: AdminControl): Response {
  const snap = control.snapshot();
  const drain = control.drainStatus();
  return json(200, {
    version: snap.version,
    uptime_seconds: Math.round(snap.uptimeMs / 1000),
    listen: { public: snap.listen, admin: control.adminListen },
    drain,
    global: snap.global,
    connections: snap.connections,
    backends: snap.backends.map((b) => ({
      pool: b.pool,
      url: b.id,
      weight: b.weight,
      effective_weight: b.effectiveWeight,
      health: b.health,
      available: b.available,
      warmup_percent: b.warmupPercent,
      breaker: b.breaker,
      requests: b.metrics.requests,
      errors: b.metrics.errors,
      in_flight: b.metrics.inFlight,
      bytes_in: b.metrics.bytesIn,
      bytes_out: b.metrics.bytesOut,
      latency_ms: b.metrics.latency,
    })),
    limiter: snap.limiter,
    ...statusGroups(snap),
    events: snap.events,
    config: printableConfig(control.config()),
  });
}
