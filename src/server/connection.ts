/**
 * The life of one client connection, as far as timeouts go: a new
 * connection must deliver its first request within `server.read_timeout`; a
 * connection between requests may idle for `server.idle_timeout`; while a
 * request is in progress the body and response guards own the deadlines.
 *
 * Draining closes a connection only where no request can be lost in
 * flight. Closing an idle keep-alive connection always races with a client
 * that has just sent a request on it (RFC 9112 §9.6), so, as HAProxy's
 * `idle-close-on-response` does, an idle connection is given a short grace:
 * a request that arrives in it is answered with `Connection: close` and the
 * connection then closes cleanly; one still idle when the grace ends is
 * closed. A connection whose last response announced `Connection: close`
 * closes as soon as that response ends. One whose response was already
 * under way without the announcement (drain began mid-response) is idle
 * afterwards like any other, and gets the same grace.
 *
 * Pure bookkeeping over a {@linkcode Watch}; the server owns the socket.
 *
 * @module
 */

import type { Watch } from "../clock/mod.ts";

/** Timeouts of a connection. */
export interface ConnectionTimeouts {
  /** From accept to the first request's headers. */
  readonly firstRequestMs: number;
  /** From the end of one request to the start of the next. */
  readonly idleMs: number;
}

/** Why a connection was closed by Aegis. */
export type CloseReason = "first_request_timeout" | "idle_timeout" | "drained" | "forced";

/** Tracks requests on one connection and decides when it must close. */
export class ConnectionState {
  #active = 0;
  #draining = false;
  #closeAnnounced = false;
  #drainGraceMs = 0;
  #closed = false;
  #waitingFor: "first_request_timeout" | "idle_timeout" | "drained" = "first_request_timeout";
  readonly #watch: Watch;
  readonly #timeouts: ConnectionTimeouts;
  readonly #close: (reason: CloseReason) => void;

  /**
   * @param watchFor creates the connection's deadline; its expiry closes the connection
   * @param close closes the socket; called at most once
   */
  constructor(
    watchFor: (onExpire: () => void) => Watch,
    timeouts: ConnectionTimeouts,
    close: (reason: CloseReason) => void,
  ) {
    this.#timeouts = timeouts;
    this.#close = close;
    this.#watch = watchFor(() => this.#closeFor(this.#waitingFor));
    // [SECURITY] Slowloris: a new connection that does not complete its first
    // request headers within server.read_timeout is closed.
    this.#watch.arm(timeouts.firstRequestMs);
  }

  /** Requests in progress on this connection. */
  get active(): number {
    return this.#active;
  }

  /** True once the connection was told to close. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once the connection is draining: every response from now on announces the close. */
  get draining(): boolean {
    return this.#draining || this.#closeAnnounced;
  }

  /** A request's headers arrived. */
  requestStarted(): void {
    this.#active++;
    this.#watch.disarm();
  }

  /** A request's response finished (or failed). */
  requestEnded(): void {
    this.#active = Math.max(0, this.#active - 1);
    if (this.#active > 0 || this.#closed) return;
    // The client was told this connection ends: no request of its can be in flight.
    if (this.#closeAnnounced) return this.#closeFor("drained");
    if (this.#draining) return this.#idleGrace();
    this.#waitingFor = "idle_timeout";
    this.#watch.arm(this.#timeouts.idleMs);
  }

  /**
   * A response announcing `Connection: close` is being sent: close as soon
   * as the requests in progress have ended, without a grace.
   */
  closeAfterResponse(): void {
    this.#closeAnnounced = true;
  }

  /**
   * Stop taking requests. An idle connection stays open for `idleGraceMs`
   * (0: closes now) in case a request is already on its way; a busy one
   * closes once its last response ends, at once if that response announced
   * the close, else after the same grace.
   */
  drain(idleGraceMs = 0): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    this.#drainGraceMs = idleGraceMs;
    if (this.#active === 0) this.#idleGrace();
  }

  /** Close now, whatever is in progress. */
  force(): void {
    this.#closeFor("forced");
  }

  /** Releases the deadline; call when the connection is gone. */
  dispose(): void {
    this.#closed = true;
    this.#watch[Symbol.dispose]();
  }

  #idleGrace(): void {
    // [SECURITY] Drain: the grace is short and bounded by the caller (the
    // shutdown timeout), so draining cannot be held open by idle clients.
    if (this.#drainGraceMs <= 0) return this.#closeFor("drained");
    this.#waitingFor = "drained";
    this.#watch.arm(this.#drainGraceMs);
  }

  #closeFor(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch[Symbol.dispose]();
    this.#close(reason);
  }
}
