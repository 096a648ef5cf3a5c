/**
 * The figures the dashboard derives from snapshots: rates need two of them
 * (this frame's and the previous one), sums and markers need one.
 *
 * The rates themselves are `snapshot/rates.ts`'s: a counter that went back
 * (a backend removed and added again by a reload) prints as missing, never
 * as a negative rate.
 *
 * @module
 */

import {
  type BackendSnapshot,
  errorShare,
  intervalSeconds,
  perSecond,
  type Snapshot,
} from "../snapshot/mod.ts";

/** Proxy-wide figures for the header and the limiter panel. */
export interface GlobalFigures {
  /** Client requests per second over the last interval. */
  readonly requestsPerSecond: number | undefined;
  /** 429 answers per second over the last interval. */
  readonly rateLimitedPerSecond: number | undefined;
  /**
   * Share of responses that were 5xx: over the last interval when there is
   * a previous snapshot, since start otherwise; `undefined` with no responses.
   */
  readonly errorShare: number | undefined;
  /** Requests in flight to all backends together. */
  readonly inFlight: number;
}

/** Computes {@linkcode GlobalFigures}. */
export function globalFigures(now: Snapshot, previous: Snapshot | undefined): GlobalFigures {
  const dt = intervalSeconds(now, previous);
  let inFlight = 0;
  for (const b of now.backends) inFlight += b.metrics.inFlight;
  return {
    requestsPerSecond: perSecond(now.global.requests, previous?.global.requests, dt),
    rateLimitedPerSecond: perSecond(now.global.rateLimited, previous?.global.rateLimited, dt),
    errorShare: errorShare(now, previous),
    inFlight,
  };
}

/** One backend's requests per second, matched to the previous snapshot by id. */
export function backendRequestsPerSecond(
  backend: BackendSnapshot,
  now: Snapshot,
  previous: Snapshot | undefined,
): number | undefined {
  const dt = intervalSeconds(now, previous);
  if (dt === undefined) return undefined;
  const before = previous?.backends.find((b) => b.id === backend.id);
  return perSecond(backend.metrics.requests, before?.metrics.requests, dt);
}

/**
 * Whether Aegis is draining. The snapshot has no flag for it, so this reads
 * the event log: `app.ts` records a `drain` event when draining starts and
 * another, `drained`, when the last connection has closed. The newest
 * `drain` event decides.
 */
export function isDraining(snapshot: Snapshot): boolean {
  const last = snapshot.events.find((e) => e.kind === "drain");
  return last !== undefined && last.message !== "drained";
}

/** How a backend looks at a glance, which decides its colour. */
export type BackendMood = "good" | "warn" | "bad";

/**
 * `bad` when unhealthy or its breaker is open, `warn` when half-open or
 * still warming up, `good` otherwise.
 */
export function backendMood(b: BackendSnapshot): BackendMood {
  if (b.health === "unhealthy" || b.breaker.state === "open") return "bad";
  if (b.breaker.state === "half_open" || b.warmupPercent < 100) return "warn";
  return "good";
}
