/**
 * Rate limiting: per-client token buckets with a bounded number of clients,
 * and the adaptive controller that moves their shared rate with backend
 * latency. Everything here takes time from an injected clock; only
 * {@linkcode AdaptiveLoop} sets a timer.
 *
 * @module
 */

export {
  type Bucket,
  createBucket,
  createRefill,
  meterReading,
  type Refill,
  setRefillRate,
  settle,
  take,
} from "./bucket.ts";
export { clientKey, DEFAULT_IPV6_PREFIX } from "./client_key.ts";
export {
  type ClientLimiter,
  type LimitDecision,
  type LimiterOptions,
  RateLimiter,
} from "./limiter.ts";
export {
  createSharedBuckets,
  processNow,
  type SharedBucketsMemory,
  type SharedBucketsSettings,
  type SharedLimiterOptions,
  SharedRateLimiter,
} from "./shared_buckets.ts";
export {
  type AdaptiveChange,
  type AdaptiveSettings,
  type AdaptiveState,
  type AdaptiveStep,
  evaluate,
  RECOVERY_BAND,
} from "./adaptive.ts";
export { AdaptiveLoop, type AdaptiveLoopOptions } from "./adaptive_loop.ts";
export {
  SharedLimitSync,
  type SharedLimitSyncOptions,
  type SharedRefill,
  type SharedStatus,
  type SharedStatusChange,
  type SharedStore,
  STORE_TIMEOUT_MS,
  type SyncedLimiter,
} from "./shared_sync.ts";
export { RedisStore, type RedisStoreOptions } from "./redis_store.ts";
