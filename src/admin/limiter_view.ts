/**
 * A rate limiter as the admin API shows it, in `GET /status` as a whole and
 * per listener: one mapping, so both spell its keys alike.
 *
 * @module
 */

import type { LimiterSnapshot } from "../snapshot/mod.ts";

/** The last adaptive rate change in `GET /status`. */
export interface RateChangeView {
  readonly from: number;
  readonly to: number;
  readonly p95_ms: number;
  readonly reason: "reduce" | "recover";
  readonly time: number;
}

/** A listener's shared rate limit store in `GET /status`. */
export interface StoreView {
  readonly type: "redis";
  readonly status: "connecting" | "up" | "down";
  readonly failed_syncs: number;
}

/** The rate limiter in `GET /status`. */
export interface LimiterView {
  readonly rate: number;
  readonly min_rate: number;
  readonly max_rate: number;
  readonly burst: number;
  readonly tracked_clients: number;
  readonly max_clients: number;
  readonly evictions: number;
  readonly last_change: RateChangeView | null;
  /** Present when the limits are shared through a store. */
  readonly store?: StoreView;
}

/** A limiter snapshot under its snake_case names. */
export function limiterView(l: LimiterSnapshot): LimiterView {
  const c = l.lastChange;
  return {
    rate: l.rate,
    min_rate: l.minRate,
    max_rate: l.maxRate,
    burst: l.burst,
    tracked_clients: l.trackedClients,
    max_clients: l.maxClients,
    evictions: l.evictions,
    last_change: c && { from: c.from, to: c.to, p95_ms: c.p95, reason: c.reason, time: c.time },
    ...(l.store
      ? { store: { type: l.store.type, status: l.store.status, failed_syncs: l.store.failedSyncs } }
      : {}),
  };
}
