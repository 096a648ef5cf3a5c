/**
 * One try of one backend: the breaker permit, the in-flight count and the
 * counters, taken together and given back exactly once however the try
 * ends (response body complete, client gone, backend failed).
 *
 * @module
 */

import type { BackendState } from "../pool/mod.ts";
import type { BodyOutcome } from "./body.ts";

/** How a try ended, as far as the backend's reputation goes. */
export type AttemptResult =
  /** The backend did its job. */
  | "success"
  /** It failed: 5xx, connection error, timeout, broken body. Counts against the breaker. */
  | "failure"
  /** Nothing to say about the backend (the client went away first). */
  | "neutral";

/** A try in progress. */
export interface Attempt {
  /** The backend tried. */
  readonly state: BackendState;
  /** Records the time to response headers in the backend's latency window. */
  headers(latencyMs: number, now: number): void;
  /** Ends the try; only the first call counts. */
  end(result: AttemptResult): void;
}

/**
 * Starts a try of `state`, or returns `undefined` when its breaker refuses
 * (open, or no half-open probe slot free).
 */
export function beginAttempt(state: BackendState): Attempt | undefined {
  const permit = state.breaker.acquire();
  if (!permit) return undefined;
  const stats = state.stats;
  stats.requests++;
  stats.inFlight++;
  let ended = false;
  return {
    state,
    headers(latencyMs, now) {
      stats.latency.record(latencyMs, now);
    },
    end(result) {
      if (ended) return;
      ended = true;
      stats.inFlight--;
      if (result === "failure") {
        stats.errors++;
        permit.failure();
      } else if (result === "success") {
        permit.success();
      } else {
        permit[Symbol.dispose]();
      }
    },
  };
}

/** The verdict on a backend response once its body has ended. */
export function resultOf(status: number, outcome: BodyOutcome | undefined): AttemptResult {
  if (status >= 500 || outcome === "upstream_error" || outcome === "upstream_timeout") {
    return "failure";
  }
  return "success";
}
