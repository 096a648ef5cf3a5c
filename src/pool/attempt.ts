/**
 * One try of one backend: the breaker permit, the in-flight count and the
 * counters, taken together as one disposable permit and given back exactly
 * once however the try ends (response body complete, client gone, backend
 * failed, a bug thrown).
 *
 * Whoever holds an attempt disposes of it (`using`); disposal ends the try
 * with its {@linkcode Attempt.verdict} unless it was ended already. A try
 * that outlives the code that began it (a response body still streaming
 * after the handler returned) is handed on with {@linkcode Attempt.move},
 * as with `DisposableStack.prototype.move()`: the old handle's disposal
 * then does nothing and the new holder ends it.
 *
 * @module
 */

import type { BreakerPermit } from "../breaker/mod.ts";
import type { BackendState } from "./state.ts";

/** How a try ended, as far as the backend's reputation goes. */
export type AttemptResult =
  /** The backend did its job. */
  | "success"
  /** It failed: 5xx, connection error, timeout, broken body. Counts against the breaker. */
  | "failure"
  /** Nothing to say about the backend (the client went away first). */
  | "neutral";

/** A try in progress, held by one owner at a time. */
export interface Attempt extends Disposable {
  /** The backend tried. */
  readonly state: BackendState;
  /**
   * The result disposal ends the try with when nothing ended it before:
   * `neutral` unless the holder knows better (a failure it is about to
   * throw or return), so a bug thrown mid-try blames no backend.
   */
  verdict: AttemptResult;
  /** Records the time to response headers in the backend's latency window. */
  headers(latencyMs: number, now: number): void;
  /**
   * Ends the try now with `result`. Only the first end (or disposal)
   * counts; later ones do nothing.
   *
   * @throws {ReferenceError} on a handle whose try was moved to another
   */
  end(result: AttemptResult): void;
  /**
   * Hands the try to a new holder: returns a handle that owns it (with the
   * same verdict) and leaves this one empty, so this one's disposal ends
   * nothing.
   *
   * @throws {ReferenceError} on a handle whose try was moved already
   */
  move(): Attempt;
}

/** The try itself, shared by the handles that pass it on. */
class Try {
  #ended = false;
  readonly state: BackendState;
  readonly #permit: BreakerPermit;

  constructor(state: BackendState, permit: BreakerPermit) {
    this.state = state;
    this.#permit = permit;
    state.stats.requests++;
    state.stats.inFlight++;
  }

  end(result: AttemptResult): void {
    if (this.#ended) return;
    this.#ended = true;
    const stats = this.state.stats;
    stats.inFlight--;
    if (result === "failure") {
      stats.errors++;
      this.#permit.failure();
    } else if (result === "success") {
      this.#permit.success();
    } else {
      this.#permit[Symbol.dispose]();
    }
  }
}

class Handle implements Attempt {
  #try: Try | undefined;
  readonly state: BackendState;
  verdict: AttemptResult;

  constructor(held: Try, verdict: AttemptResult) {
    this.#try = held;
    this.state = held.state;
    this.verdict = verdict;
  }

  headers(latencyMs: number, now: number): void {
    this.state.stats.latency.record(latencyMs, now);
  }

  end(result: AttemptResult): void {
    this.#held().end(result);
  }

  move(): Attempt {
    const held = this.#held();
    this.#try = undefined;
    return new Handle(held, this.verdict);
  }

  [Symbol.dispose](): void {
    // A moved handle owns nothing: its new holder ends the try.
    this.#try?.end(this.verdict);
  }

  #held(): Try {
    if (!this.#try) throw new ReferenceError("this attempt was moved to another holder");
    return this.#try;
  }
}

/**
 * Starts a try of `state`, or returns `undefined` when its breaker refuses
 * (open, or no half-open probe slot free).
 *
 * @example
 * ```ts
 * using attempt = beginAttempt(state);
 * if (!attempt) return refused();
 * attempt.verdict = "failure"; // whatever throws from here blames the backend
 * const response = await send(request);
 * attempt.end(response.status >= 500 ? "failure" : "success");
 * ```
 */
export function beginAttempt(state: BackendState): Attempt | undefined {
  const permit = state.breaker.acquire();
  if (!permit) return undefined;
  return new Handle(new Try(state, permit), "neutral");
}
