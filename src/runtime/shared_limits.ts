/**
 * A listener's limits shared by the fleet (`rate_limit.store: { type:
 * redis }`): the Redis connection and the sync loop, and what an operator
 * is told when the shared limits go down or come back (an event, a log
 * line; the metrics read {@linkcode SharedLimits.view}).
 *
 * @module
 */

import type { ListenerConfig } from "../config/mod.ts";
import { type RateLimiter, RedisStore, SharedLimitSync, STORE_TIMEOUT_MS } from "../limit/mod.ts";
import type { StoreSnapshot } from "../snapshot/mod.ts";
import type { Shared } from "./shared.ts";

/** A listener's shared limits, running. */
export interface SharedLimits extends AsyncDisposable {
  /** The store as a snapshot shows it. */
  view(): StoreSnapshot;
}

/**
 * Connects listener `config.name`'s limiter to its store and starts
 * syncing; `undefined` when its limits are local.
 */
export function startSharedLimits(
  config: ListenerConfig,
  limiter: RateLimiter,
  shared: Shared,
): SharedLimits | undefined {
  const { store } = config.rate_limit;
  if (store.type !== "redis") return undefined;
  const { logger, events, clock } = shared;
  const listener = config.name;
  const sync = new SharedLimitSync({
    limiter,
    store: new RedisStore({ url: store.url, listener, connectTimeoutMs: STORE_TIMEOUT_MS }),
    clock,
    intervalMs: store.sync_interval,
    onChange(change) {
      if (change.to === "down") {
        const reason = change.reason ?? "unknown";
        logger.warn("shared rate limits unavailable", { listener, reason });
        events.record("limit", `${listener}: shared rate limits unavailable: ${reason}`, {
          listener,
          reason,
        });
      } else if (change.from === "down") {
        logger.info("shared rate limits restored", { listener });
        events.record("limit", `${listener}: shared rate limits restored`, { listener });
      } else {
        logger.info("shared rate limits in force", { listener });
      }
    },
  });
  sync.start();
  return {
    view: () => ({ type: "redis", status: sync.status, failedSyncs: sync.failures }),
    [Symbol.asyncDispose]: () => sync[Symbol.asyncDispose](),
  };
}
