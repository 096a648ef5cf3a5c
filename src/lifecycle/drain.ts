/**
 * `POST /drain`: every configured listener stops accepting while everything
 * else runs on, so requests in progress finish and the admin API reports
 * progress. Unlike stop, nothing is disposed and no grace runs out.
 *
 * @module
 */

import type { DrainStatus } from "../admin/mod.ts";
import type { EventLog } from "../events/mod.ts";
import type { Logger } from "../log/mod.ts";

/** What can be drained: the configured listeners together ({@linkcode ListenerSet}). */
export interface Drainable {
  readonly draining: boolean;
  readonly connections: number;
  readonly requestsInFlight: number;
  drain(graceMs: number): Promise<void>;
}

/** Starting a drain, and how far it got. */
export interface DrainControl {
  /** Starts draining; does nothing when already draining (or stopping). */
  drain(): void;
  /** Drain progress. */
  status(): DrainStatus;
}

/**
 * Drain control over `listeners`, logged and recorded as `drain` events.
 *
 * @example
 * ```ts
 * const control = drainControl(listeners, logger, events);
 * control.drain();
 * control.status(); // { draining: true, connections: 3, inFlight: 1 }
 * ```
 */
export function drainControl(
  listeners: Drainable,
  logger: Logger,
  events: EventLog,
): DrainControl {
  return {
    drain() {
      if (listeners.draining) return;
      logger.info("draining: no new client connections; requests in progress finish", {
        connections: listeners.connections,
      });
      events.record("drain", "draining started", { connections: listeners.connections });
      listeners.drain(Infinity).then(() => {
        logger.info("drained: every client connection is closed");
        events.record("drain", "drained", {});
      });
    },
    status: () => ({
      draining: listeners.draining,
      connections: listeners.connections,
      inFlight: listeners.requestsInFlight,
    }),
  };
}
