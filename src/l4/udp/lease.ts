/**
 * A session's hold on one backend: its breaker permit, and one count in
 * the backend's in-flight number for as long as the session uses it.
 *
 * Why not `beginAttempt()` from the pool: an attempt reports to
 * the breaker and gives back its in-flight count in the same call, which
 * fits a request. A UDP session learns its verdict early (the backend's
 * first reply, or its silence) and then keeps the backend for as long as
 * the client talks. Settling the breaker at the first reply lets a
 * half-open breaker close as soon as its probe session is answered instead
 * of when that session goes idle, while in-flight keeps meaning "open
 * sessions", which is what least-connections should balance for UDP.
 *
 * @module
 */

import type { BreakerPermit } from "../../breaker/mod.ts";
import type { BackendState } from "../../pool/mod.ts";

/** A backend held by a session: settle it once, dispose of it exactly once. */
export class BackendLease implements Disposable {
  /** The backend held. */
  readonly state: BackendState;
  readonly #permit: BreakerPermit;
  #settled = false;
  #released = false;

  private constructor(state: BackendState, permit: BreakerPermit) {
    this.state = state;
    this.#permit = permit;
    state.stats.requests++;
    state.stats.inFlight++;
  }

  /**
   * Takes a lease on `state`, or returns `undefined` when its breaker
   * refuses (open, or every half-open probe slot taken).
   *
   * @example
   * ```ts
   * const lease = BackendLease.take(state);
   * if (!lease) return pickAnother();
   * // first reply:
   * lease.succeeded();
   * // session over:
   * lease[Symbol.dispose]();
   * ```
   */
  static take(state: BackendState): BackendLease | undefined {
    const permit = state.breaker.acquire();
    return permit ? new BackendLease(state, permit) : undefined;
  }

  /** Whether the breaker has heard how the backend did. */
  get settled(): boolean {
    return this.#settled;
  }

  /** The backend answered: a success for its breaker. Only the first verdict counts. */
  succeeded(): void {
    if (this.#settled || this.#released) return;
    this.#settled = true;
    this.#permit.success();
  }

  /** The backend did not answer, or its socket failed: a failure for its breaker. */
  failed(): void {
    if (this.#settled || this.#released) return;
    this.#settled = true;
    this.state.stats.errors++;
    this.#permit.failure();
  }

  /** Gives the backend back; an unsettled verdict is neutral (the client went quiet first). */
  [Symbol.dispose](): void {
    if (this.#released) return;
    this.#released = true;
    this.state.stats.inFlight--;
    if (!this.#settled) this.#permit[Symbol.dispose]();
  }
}
