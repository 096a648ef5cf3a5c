/**
 * `POST /drain`: the public listener stops accepting while everything else
 * runs on, so requests in progress finish and the admin API reports
 * progress. Unlike stop, nothing is disposed and no grace runs out.
 *
 * @module
 */

import type { DrainStatus } from "../admin/mod.ts";
import type { EventLog } from "../events/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Listener } from "./listener.ts";

/** Starting a drain, and how far it got. */
export interface DrainControl {
  /** Starts draining; does nothing when already draining (or stopping). */
  drain(): void;
  /** Drain progress. */
  status(): DrainStatus;
}

/**
 * Drain control over `listener`, logged and recorded as `drain` events.
 *
 * @example
 * ```ts
 * const control = drainControl(publicListener, logger, events);
 * control.drain();
 * control.status(); // { draining: true, connections: 3, inFlight: 1 }
 * ```
 */
export function drainControl(listener: Listener, logger: Logger, events: EventLog): DrainControl {
  const { server } = listener;
  return {
    drain() {
      if (server.draining) return;
      logger.info("draining: no new client connections; requests in progress finish", {
        connections: server.connections,
      });
      events.record("drain", "draining started", { connections: server.connections });
      listener.drain(Infinity).then(() => {
        logger.info("drained: every client connection is closed");
        events.record("drain", "drained", {});
      });
    },
    status: () => ({
      draining: server.draining,
      connections: server.connections,
      inFlight: server.requestsInFlight,
    }),
  };
}
