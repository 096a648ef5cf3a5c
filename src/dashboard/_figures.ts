/**
 * The figures the dashboard derives from snapshots: rates need two of them
 * (this frame's and the previous one), sums and markers need one.
 *
 * Counters only grow while Aegis runs, but a backend removed and added back
 * by a reload starts again from zero; a negative difference therefore means
 * "no comparable figure" and prints as missing, never as a negative rate.
 *
 * @module
 */

import type { BackendSnapshot, Snapshot } from "../snapshot/mod.ts";

/** Seconds between two snapshots, or `undefined` without a usable previous one. */
export function intervalSeconds(now: Snapshot, previous: Snapshot | undefined): number | undefined {
  if (previous === undefined) return undefined;
  const dt = (now.time - previous.time) / 1000;
  return Number.isFinite(dt) && dt > 0 ? dt : undefined;
}

/** `(now − before) / seconds`, or `undefined` when any input is missing or the counter went back. */
export function perSecond(
  now: number,
  before: number | undefined,
  seconds: number | undefined,
): number | undefined {
  if (before === undefined || seconds === undefined) return undefined;
  const delta = now - before;
  return Number.isFinite(delta) && delta >= 0 ? delta / seconds : undefined;
}

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

function responseTotals(s: Snapshot): { all: number; errors: number } {
  const r = s.global.responses;
  return { all: r["1xx"] + r["2xx"] + r["3xx"] + r["4xx"] + r["5xx"], errors: r["5xx"] };
}

/** Computes {@linkcode GlobalFigures}. */
export function globalFigures(now: Snapshot, previous: Snapshot | undefined): GlobalFigures {
  const dt = intervalSeconds(now, previous);
  const cur = responseTotals(now);
  let all = cur.all;
  let errors = cur.errors;
  if (previous !== undefined && dt !== undefined) {
    const before = responseTotals(previous);
    all -= before.all;
    errors -= before.errors;
  }
  let inFlight = 0;
  for (const b of now.backends) inFlight += b.metrics.inFlight;
  return {
    requestsPerSecond: perSecond(now.global.requests, previous?.global.requests, dt),
    rateLimitedPerSecond: perSecond(now.global.rateLimited, previous?.global.rateLimited, dt),
    errorShare: all > 0 && errors >= 0 ? Math.min(1, errors / all) : undefined,
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
