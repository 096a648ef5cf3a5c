/**
 * What a backend's tries left behind, for tests that check an attempt was
 * ended exactly once, with the right verdict.
 *
 * @module
 */

import type { BackendState } from "../../src/pool/mod.ts";

/** A backend's request, in-flight and error counts and its breaker, as plain data. */
export function attemptCounts(state: BackendState) {
  const b = state.breaker.snapshot();
  return {
    requests: state.stats.requests,
    inFlight: state.stats.inFlight,
    errors: state.stats.errors,
    failuresInARow: b.consecutiveFailures,
    breaker: b.state,
  };
}

/** One try that ended well (or neutral). */
export const ONCE = { requests: 1, inFlight: 0, errors: 0, failuresInARow: 0, breaker: "closed" };

/** One try that ended as a failure. */
export const FAILED_ONCE = { ...ONCE, errors: 1, failuresInARow: 1 };
