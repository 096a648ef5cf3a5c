/**
 * Invariants on what is left once the run is over: nothing in flight, no
 * POST sent twice, the limiter bounded, and no timer or socket alive after
 * shutdown.
 *
 * @module
 */

import { describe, Problems, requests } from "./_problems.ts";
import type { StressReport } from "./_report.ts";

/**
 * Nothing is in progress once the run is over: no request in flight to any
 * backend (retired ones included), no half-open probe slot held, no client
 * connection; and no POST reached a backend twice.
 */
export function nothingLeftInFlight(r: StressReport): string[] {
  const p = new Problems();
  for (const s of r.quiet.states) {
    p.check(s.inFlight === 0, "a backend still counts requests in flight", s);
    p.check(s.halfOpenInFlight === 0, "a breaker still holds half-open probe slots", s);
  }
  const { connections, inFlight } = r.quiet;
  p.check(
    connections === 0 && inFlight === 0,
    "the drain left connections or requests",
    { connections, inFlight },
  );
  for (let i = 0; i < requests(r); i++) {
    p.check(
      r.receipts.posts[i]! <= 1,
      "a POST reached a backend more than once",
      `#${i}: ${r.receipts.posts[i]}× at ${r.receipts.receivers(i)}; ${describe(r, i)}`,
    );
  }
  return p.list();
}

/** The limiter never held more buckets than `max_clients`, and let go of every idle one. */
export function limiterBounded(r: StressReport): string[] {
  const p = new Problems();
  p.check(
    r.peaks.trackedClients <= r.maxClients,
    "the limiter held more buckets than max_clients",
    r.peaks,
  );
  if (r.limitedAddresses > r.maxClients) {
    p.check(r.evictions > 0, "more clients than max_clients, yet no bucket was evicted", {
      evictions: r.evictions,
      addresses: r.limitedAddresses,
    });
  }
  p.check(r.purged === true, "idle buckets were not purged", r.purged);
  return p.list();
}

/** No timer and no socket outlives shutdown. */
export function nothingLeftBehind(r: StressReport): string[] {
  const p = new Problems();
  for (const site of r.timersLeft) {
    p.add("a timer is still pending after shutdown", site);
  }
  const { before, after } = r.sockets;
  if (before !== undefined && after !== undefined) {
    p.check(after <= before, "sockets are still open after shutdown", r.sockets);
  }
  return p.list();
}
