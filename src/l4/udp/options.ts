/**
 * What a UDP listener is started with, and what a reload may change:
 * its session limits, its client filters, its pool.
 *
 * @module
 */

import type { Clock } from "../../clock/mod.ts";
import type { EventLog } from "../../events/mod.ts";
import type { Logger } from "../../log/mod.ts";
import type { Pool } from "../../pool/mod.ts";
import type { SessionLimits } from "./sessions.ts";

/** The client filters of a UDP listener; a reload may replace them. */
export interface UdpRelayFilters {
  /** [SECURITY] Allow/deny networks: whether a client address may open a session. Default: all. */
  readonly accept?: (ip: string) => boolean;
  /** [SECURITY] The per-client packet rate limit: whether this datagram may pass. Default: all. */
  readonly allowPacket?: (ip: string, now: number) => boolean;
}

/** Defaults of {@linkcode UdpRelayOptions}, the same as the configuration's. */
export const UDP_RELAY_DEFAULTS: SessionLimits = Object.freeze({
  maxSessions: 10_000,
  sessionTimeoutMs: 30_000,
  replyTimeoutMs: 0,
});

/** Everything a UDP listener is started with. */
export interface UdpRelayOptions extends UdpRelayFilters, Partial<SessionLimits> {
  /** The listener's name, for logs and events. */
  readonly name: string;
  /** `host:port` to bind (`[::]:53` for IPv6); port 0 picks a free port. */
  readonly address: string;
  /** The backends sessions are relayed to. */
  readonly pool: Pool;
  /** The pool's name, for logs and events. */
  readonly poolName: string;
  /** Where log lines go. */
  readonly logger: Logger;
  /** Where events an operator should see go (the session table filling up). */
  readonly events: EventLog;
  /** Time for expiry, reply timeouts, the grace period and the rate limit. Default: the system clock. */
  readonly clock?: Clock;
}

/**
 * `base` with the limits `over` gives.
 *
 * @example
 * ```ts
 * limitsOf(UDP_RELAY_DEFAULTS, { maxSessions: 500 }); // 30 s timeout, no reply timeout
 * ```
 */
export function limitsOf(base: SessionLimits, over: Partial<SessionLimits>): SessionLimits {
  return {
    maxSessions: over.maxSessions ?? base.maxSessions,
    sessionTimeoutMs: over.sessionTimeoutMs ?? base.sessionTimeoutMs,
    replyTimeoutMs: over.replyTimeoutMs ?? base.replyTimeoutMs,
  };
}
