/**
 * The adaptive rate controller: a pure function from the current state and
 * one latency observation to the next state. It lowers the per-client rate
 * when backends slow down and raises it again when they recover (seed
 * `002_…`, "Adaptive control loop"). The timer that calls it lives in
 * `adaptive_loop.ts`.
 *
 * @module
 */

/** Tuning for {@linkcode evaluate}; the defaults of `aegis.yml` are in brackets. */
export interface AdaptiveSettings {
  /** P95 latency above which the rate is reduced, in ms [500]. */
  readonly latencyThresholdMs: number;
  /** Multiplier applied on a reduction, below 1 [0.8]. */
  readonly reductionFactor: number;
  /** Multiplier applied on a recovery, above 1 [1.1]. */
  readonly recoveryFactor: number;
  /** The rate never drops below this [10]. */
  readonly minRate: number;
  /** The rate never rises above this [500]. */
  readonly maxRate: number;
}

/** What the controller carries from one evaluation to the next. */
export interface AdaptiveState {
  /** The current per-client rate, tokens per second. */
  readonly rate: number;
  /** True when the previous evaluation lowered the rate. */
  readonly reducedLastTime: boolean;
}

/** A rate change, for the event log and the dashboard. */
export interface AdaptiveChange {
  /** Rate before. */
  readonly from: number;
  /** Rate after. */
  readonly to: number;
  /** The P95 latency (ms) that caused it. */
  readonly p95: number;
  /** Which way it went. */
  readonly reason: "reduce" | "recover";
}

/** The result of one {@linkcode evaluate}. */
export interface AdaptiveStep {
  /** State for the next evaluation. */
  readonly state: AdaptiveState;
  /** Present only when the rate actually changed. */
  readonly change?: AdaptiveChange;
}

/** Recovery starts once P95 is 30 % under the threshold (seed `002_…`). */
export const RECOVERY_BAND = 0.7;

/**
 * One step of the controller.
 *
 * - `p95 > threshold`: rate × `reductionFactor`, not below `minRate` —
 *   unless the previous step was a reduction. That skip is the hysteresis:
 *   a reduction needs one interval to show in the latency window before it
 *   is judged, or the loop spirals down under a transient spike. The skip
 *   clears the flag, so a reading still high after it reduces again.
 * - `p95 < 0.7 × threshold`: rate × `recoveryFactor`, not above `maxRate`.
 * - otherwise (the band between), or no samples (`undefined`): no change.
 *
 * The flag is set only by a step that actually lowered the rate: a
 * "reduction" clamped to no change gives nothing to wait for. No `change`
 * is reported when clamping leaves the rate where it was. A reduction never
 * raises a rate already below `minRate`, and a recovery never lowers one
 * already above `maxRate`.
 *
 * @example
 * ```ts
 * let state: AdaptiveState = { rate: 100, reducedLastTime: false };
 * const step = evaluate(state, 720, settings);
 * state = step.state; // { rate: 80, reducedLastTime: true }
 * if (step.change) limiter.setRate(step.change.to);
 * ```
 */
export function evaluate(
  state: AdaptiveState,
  p95: number | undefined,
  s: AdaptiveSettings,
): AdaptiveStep {
  const { rate } = state;
  const hold: AdaptiveStep = { state: { rate, reducedLastTime: false } };
  if (p95 === undefined) return hold;
  if (p95 > s.latencyThresholdMs) {
    if (state.reducedLastTime) return hold;
    const to = Math.min(rate, Math.max(s.minRate, rate * s.reductionFactor));
    return step(rate, to, p95, "reduce");
  }
  if (p95 < s.latencyThresholdMs * RECOVERY_BAND) {
    const to = Math.max(rate, Math.min(s.maxRate, rate * s.recoveryFactor));
    return step(rate, to, p95, "recover");
  }
  return hold;
}

function step(
  from: number,
  to: number,
  p95: number,
  reason: AdaptiveChange["reason"],
): AdaptiveStep {
  if (to === from) return { state: { rate: from, reducedLastTime: false } };
  return {
    state: { rate: to, reducedLastTime: reason === "reduce" },
    change: { from, to, p95, reason },
  };
}
