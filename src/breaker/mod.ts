/**
 * Per-backend circuit breakers: a pure state machine over real traffic,
 * with requests admitted as disposable permits.
 *
 * @module
 */

export {
  type BreakerMemory,
  type BreakerOptions,
  type BreakerPermit,
  type BreakerSnapshot,
  type BreakerState,
  type BreakerTransition,
  CircuitBreaker,
  createSharedBreaker,
  sharedBreakerMemory,
} from "./breaker.ts";
