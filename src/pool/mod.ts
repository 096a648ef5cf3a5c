/**
 * The backend pool: backends with live state, and the balancing policies.
 *
 * @module
 */

export { type Attempt, type AttemptResult, beginAttempt } from "./attempt.ts";
export { type Backend, type BackendEntry, createBackend } from "./backend.ts";
export {
  type Balancer,
  type BalancerFactory,
  BALANCERS,
  type BalancingSettings,
  type Candidate,
  consistentHash,
  createBalancer,
  hashKeyOf,
  leastConnections,
  type PickContext,
  roundRobin,
  smoothWeightedRoundRobin,
} from "./balancer.ts";
export { createPool, type Pool, type PoolOptions } from "./pool.ts";
export { BackendState, type StateListener } from "./state.ts";
