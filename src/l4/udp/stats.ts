/**
 * Counters of one UDP listener: plain mutable fields bumped on the packet
 * path (one increment each, nothing allocated), and a frozen copy for
 * readers (metrics, admin, dashboard), as with the HTTP counters.
 *
 * @module
 */

/** Why a datagram was not forwarded. */
export type DropReason =
  /** The client's packet rate limit refused it (`allowPacket`). */
  | "rate_limited"
  /** The client's address is not allowed (`accept`), or its session was revoked. */
  | "denied"
  /** No backend could take a new session (all unavailable, excluded or refusing). */
  | "no_backend"
  /** Larger than a UDP datagram over IPv4 can carry (65,507 bytes). */
  | "too_large"
  /** The listener is shutting down and takes no new sessions. */
  | "draining"
  /**
   * The operating system refused the send; or a socket's send queue was full
   * (sends stopped finishing); or a backend's name was still resolving and its
   * short queue was full.
   */
  | "send_failed"
  /** [SECURITY] A datagram reached a session's socket from an address other than its backend. */
  | "stray";

/** Every drop reason, in a stable order for metrics. */
export const DROP_REASONS: readonly DropReason[] = Object.freeze([
  "rate_limited",
  "denied",
  "no_backend",
  "too_large",
  "draining",
  "send_failed",
  "stray",
]);

/** Live counters of one UDP listener. */
export class UdpRelayStats {
  /** Sessions opened since start. */
  sessionsCreated = 0;
  /** Sessions closed because they were idle for the session timeout. */
  sessionsExpired = 0;
  /** Sessions closed to make room for a new one (the table was full). */
  sessionsEvicted = 0;
  /** Sessions closed because the client's address is no longer accepted (a reload). */
  sessionsRevoked = 0;
  /** Sessions closed, for any reason (shutdown included). */
  sessionsClosed = 0;
  /** Backends that failed a session: no first reply in time, or a socket error. */
  upstreamFailures = 0;
  /** Datagrams forwarded client → backend. */
  packetsToBackend = 0;
  /** Payload bytes forwarded client → backend. */
  bytesToBackend = 0;
  /** Datagrams forwarded backend → client. */
  packetsToClient = 0;
  /** Payload bytes forwarded backend → client. */
  bytesToClient = 0;
  /** Datagrams dropped, by reason. */
  readonly drops: Record<DropReason, number> = {
    rate_limited: 0,
    denied: 0,
    no_backend: 0,
    too_large: 0,
    draining: 0,
    send_failed: 0,
    stray: 0,
  };

  /**
   * A frozen copy, with the sessions open now.
   *
   * @example
   * ```ts
   * const view = relay.stats.snapshot(relay.sessions);
   * view.drops.rate_limited; // a number that will not change under the reader
   * ```
   */
  snapshot(activeSessions: number): UdpRelaySnapshot {
    return Object.freeze({
      activeSessions,
      sessionsCreated: this.sessionsCreated,
      sessionsExpired: this.sessionsExpired,
      sessionsEvicted: this.sessionsEvicted,
      sessionsRevoked: this.sessionsRevoked,
      sessionsClosed: this.sessionsClosed,
      upstreamFailures: this.upstreamFailures,
      packetsToBackend: this.packetsToBackend,
      bytesToBackend: this.bytesToBackend,
      packetsToClient: this.packetsToClient,
      bytesToClient: this.bytesToClient,
      drops: Object.freeze({ ...this.drops }),
    });
  }
}

/** A frozen view of {@linkcode UdpRelayStats}, plus the sessions open when it was taken. */
export interface UdpRelaySnapshot {
  /** Sessions open. */
  readonly activeSessions: number;
  /** See {@linkcode UdpRelayStats.sessionsCreated}. */
  readonly sessionsCreated: number;
  /** See {@linkcode UdpRelayStats.sessionsExpired}. */
  readonly sessionsExpired: number;
  /** See {@linkcode UdpRelayStats.sessionsEvicted}. */
  readonly sessionsEvicted: number;
  /** See {@linkcode UdpRelayStats.sessionsRevoked}. */
  readonly sessionsRevoked: number;
  /** See {@linkcode UdpRelayStats.sessionsClosed}. */
  readonly sessionsClosed: number;
  /** See {@linkcode UdpRelayStats.upstreamFailures}. */
  readonly upstreamFailures: number;
  /** See {@linkcode UdpRelayStats.packetsToBackend}. */
  readonly packetsToBackend: number;
  /** See {@linkcode UdpRelayStats.bytesToBackend}. */
  readonly bytesToBackend: number;
  /** See {@linkcode UdpRelayStats.packetsToClient}. */
  readonly packetsToClient: number;
  /** See {@linkcode UdpRelayStats.bytesToClient}. */
  readonly bytesToClient: number;
  /** See {@linkcode UdpRelayStats.drops}. */
  readonly drops: Readonly<Record<DropReason, number>>;
}
