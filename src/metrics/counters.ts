/**
 * Live counters: plain mutable fields bumped on the request path, O(1) each.
 *
 * Nothing outside the request path and the metrics tick should read these
 * objects; readers get a frozen copy from `snapshot.ts` instead, so a
 * dashboard frame or an admin response never sees numbers change mid-read.
 * Runtime state is keyed by backend id (its URL) by whoever holds it, so a
 * reload can carry a {@linkcode BackendStats} over to the new pool.
 *
 * @module
 */

import { LatencyWindow, type LatencyWindowOptions } from "./window.ts";

/** Live counters of one backend. */
export class BackendStats {
  /** Requests sent to this backend. */
  requests = 0;
  /** Requests that failed at this backend (5xx, timeout, connection error). */
  errors = 0;
  /** Requests sent and not yet finished. */
  inFlight = 0;
  /** Bytes received from this backend (response bodies). */
  bytesIn = 0;
  /** Bytes sent to this backend (request bodies). */
  bytesOut = 0;
  /** Latency samples of recent requests. */
  readonly latency: LatencyWindow;

  /**
   * @example
   * ```ts
   * const stats = new BackendStats({ capacity: 1000, maxAgeMs: 60_000 });
   * stats.requests++;
   * stats.latency.record(12.5, clock.now());
   * ```
   */
  constructor(options?: LatencyWindowOptions) {
    this.latency = new LatencyWindow(options);
  }
}

/** An HTTP status class (RFC 9110 §15: the first digit of the code). */
export type StatusClass = "1xx" | "2xx" | "3xx" | "4xx" | "5xx";

/** Every status class, in order. */
export const STATUS_CLASSES: readonly StatusClass[] = Object.freeze([
  "1xx",
  "2xx",
  "3xx",
  "4xx",
  "5xx",
]);

/**
 * The class of a status code (RFC 9110 §15). Codes outside 100–599 cannot
 * come from the runtime's `Response`; should one appear anyway it is counted
 * in the nearest class (below 200 → `1xx`, from 500 up or `NaN` → `5xx`)
 * rather than thrown on the request path.
 *
 * @example
 * ```ts
 * statusClass(204); // "2xx"
 * statusClass(599); // "5xx"
 * ```
 */
export function statusClass(status: number): StatusClass {
  if (status < 200) return "1xx";
  if (status < 300) return "2xx";
  if (status < 400) return "3xx";
  if (status < 500) return "4xx";
  return "5xx";
}

/** Live counters of the whole proxy. */
export class GlobalStats {
  /** Requests received from clients, answered by the proxy or a backend. */
  requests = 0;
  /** Responses sent to clients, by status class. */
  readonly responses: Record<StatusClass, number> = {
    "1xx": 0,
    "2xx": 0,
    "3xx": 0,
    "4xx": 0,
    "5xx": 0,
  };
  /** Requests refused with 429 by the rate limiter. */
  rateLimited = 0;
  /** Requests refused by request validation, by reason. */
  readonly rejects: Map<string, number> = new Map();
  /** Client connections open now. */
  activeConnections = 0;
  /** Client connections accepted since start. */
  totalConnections = 0;
  /** Bytes received from clients (request bodies). */
  bytesIn = 0;
  /** Bytes sent to clients (response bodies). */
  bytesOut = 0;

  /**
   * Counts one response by its status class. It does not touch
   * {@linkcode GlobalStats.requests}: that is counted when a request
   * arrives, so the two can be compared.
   *
   * @example
   * ```ts
   * stats.recordResponse(503);
   * stats.responses["5xx"]; // 1
   * ```
   */
  recordResponse(status: number): void {
    this.responses[statusClass(status)]++;
  }

  /**
   * Counts one validation reject under `reason`.
   *
   * `reason` must come from the fixed set the validator defines (such as
   * `"method_not_allowed"` or `"body_too_large"` in `proxy/validate.ts`),
   * never from request data: every distinct reason is a map entry that
   * lives as long as the process, so a client-chosen string would let
   * clients grow memory without bound.
   */
  recordReject(reason: string): void {
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1);
  }
}
