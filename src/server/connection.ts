/**
 * The life of one client connection, as far as timeouts go: a new
 * connection must deliver its first request within `server.read_timeout`; a
 * connection between requests may idle for `server.idle_timeout`; while a
 * request is in progress the body and response guards own the deadlines.
 * When draining, a connection closes as soon as its last request ends.
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
  #closed = false;
  #waitingFor: "first_request_timeout" | "idle_timeout" = "first_request_timeout";
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

  /** True once the connection is draining. */
  get draining(): boolean {
    return this.#draining;
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
    if (this.#draining) {
      this.#closeFor("drained");
      return;
    }
    this.#waitingFor = "idle_timeout";
    this.#watch.arm(this.#timeouts.idleMs);
  }

  /** Close as soon as the requests in progress have ended. */
  closeAfterResponse(): void {
    this.#draining = true;
  }

  /** Stop taking requests: close now if idle, else after the last one ends. */
  drain(): void {
    this.#draining = true;
    if (this.#active === 0) this.#closeFor("drained");
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

  #closeFor(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch[Symbol.dispose]();
    this.#close(reason);
  }
}
