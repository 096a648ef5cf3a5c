/**
 * The backend pool: backends with live state, and the balancing policies.
 *
 * @module
 */

export { type Backend, createBackend } from "./backend.ts";
export {
  type Balancer,
  type Candidate,
  consistentHash,
  createBalancer,
  hashKeyOf,
  type HashKeySource,
  leastConnections,
  parseHashKey,
  type PickContext,
  roundRobin,
  smoothWeightedRoundRobin,
} from "./balancer.ts";
export { createPool, type Pool, type PoolOptions } from "./pool.ts";
export { BackendState, type StateListener } from "./state.ts";
