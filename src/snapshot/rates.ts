/**
 * Rates from two snapshots: counters only grow while Aegis runs, so a rate
 * is the difference over the time between them. A counter that went back
 * (a backend removed and added again by a reload starts from zero) gives
 * no figure rather than a negative one.
 *
 * @module
 */

import type { Snapshot } from "./snapshot.ts";

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

/** Responses sent since start, all and `5xx`, every listener's together. */
export function responseTotals(s: Snapshot): { all: number; errors: number } {
  const r = s.global.responses;
  return { all: r["1xx"] + r["2xx"] + r["3xx"] + r["4xx"] + r["5xx"], errors: r["5xx"] };
}

/**
 * The share of responses that were `5xx`: between the two snapshots when
 * there is a previous one, since start otherwise; `undefined` with no
 * responses to count.
 */
export function errorShare(now: Snapshot, previous: Snapshot | undefined): number | undefined {
  const cur = responseTotals(now);
  let all = cur.all;
  let errors = cur.errors;
  if (intervalSeconds(now, previous) !== undefined) {
    const before = responseTotals(previous!);
    all -= before.all;
    errors -= before.errors;
  }
  return all > 0 && errors >= 0 ? Math.min(1, errors / all) : undefined;
}
