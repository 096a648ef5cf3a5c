/**
 * The admin listener (`admin.address`) and the metrics listener
 * (`admin.metrics_address`), opened the same way by a single isolate
 * (`app.ts`) and by the control isolate of several (`workers/`): fixed
 * connection limits, the first listener's timeouts, and a grace of their
 * own at stop, after the public listeners' drain.
 *
 * @module
 */

import { type AdminControl, createAdminHandler, createMetricsHandler } from "../admin/mod.ts";
import type { Watchdog } from "../clock/mod.ts";
import { type Config, parseHostPort } from "../config/mod.ts";
import { ADMIN_LIMITS, METRICS_LIMITS } from "../connection_limits.ts";
import type { Logger } from "../log/mod.ts";
import type { ConnectionLimits } from "../server/mod.ts";
import { ADMIN_LISTENER, type Listener, METRICS_LISTENER, openListener } from "./listener.ts";

/** How long the admin and metrics listeners' requests in progress get at stop, after the public drain. */
const ADMIN_CLOSE_GRACE_MS = 1000;

/** What the admin API reads and controls, less what {@linkcode openAdminListeners} provides. */
export type AdminParts = Omit<AdminControl, "closing" | "adminListen" | "metricsListen">;

/** Options for {@linkcode openAdminListeners}. */
export interface AdminListenersOptions {
  /** The configuration at start: the addresses, and the first listener's timeouts. */
  readonly config: Config;
  readonly control: AdminParts;
  readonly logger: Logger;
  readonly watchdog: Watchdog;
  readonly drainIdleGraceMs?: number;
  /**
   * Opens one listener, so that the caller can undo it if a later part
   * fails (`Lifecycle.start`); called for the admin listener, then the
   * metrics listener.
   */
  readonly start: (open: () => Listener) => Listener;
}

/** The admin listener, and the metrics listener when configured. */
export interface AdminListeners {
  readonly admin: Listener;
  readonly metrics: Listener | undefined;
  /** Ends the open dashboard streams, so that the admin listener's close does not wait for them. */
  closing(): void;
}

/**
 * Binds the admin listener and, when `admin.metrics_address` is set, the
 * metrics listener.
 *
 * @throws bind errors, tagged `ADMIN_LISTENER` or `METRICS_LISTENER`
 */
export function openAdminListeners(options: AdminListenersOptions): AdminListeners {
  const { config, logger } = options;
  const first = config.listeners[0]!;
  const open = (
    name: string,
    address: string,
    limits: ConnectionLimits,
    handle: (request: Request) => Promise<Response>,
  ) => {
    const where = parseHostPort(address)!;
    return openListener({
      name,
      hostname: where.host,
      port: where.port,
      firstRequestTimeoutMs: first.read_timeout,
      idleTimeoutMs: first.idle_timeout,
      watchdog: options.watchdog,
      logger,
      drainIdleGraceMs: options.drainIdleGraceMs,
      handler: (request) => handle(request),
      limits,
      closeGraceMs: ADMIN_CLOSE_GRACE_MS,
    });
  };
  const closing = new AbortController();
  // Read by the handlers, which exist before the listeners they serve.
  const bound: { admin?: Listener; metrics?: Listener } = {};
  const control: AdminControl = {
    ...options.control,
    closing: closing.signal,
    get adminListen() {
      return bound.admin?.url ?? "";
    },
    get metricsListen() {
      return bound.metrics?.url ?? "";
    },
  };
  const { address, metrics_address } = config.admin;
  const adminHandler = createAdminHandler(control, logger);
  const admin = options.start(() => open(ADMIN_LISTENER, address, ADMIN_LIMITS, adminHandler));
  bound.admin = admin;
  if (metrics_address !== "") {
    const metricsHandler = createMetricsHandler(control);
    bound.metrics = options.start(() =>
      open(METRICS_LISTENER, metrics_address, METRICS_LIMITS, metricsHandler)
    );
  }
  return { admin, metrics: bound.metrics, closing: () => closing.abort() };
}
