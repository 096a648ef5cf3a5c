/**
 * The backend pool and the balancing policies.
 *
 * @module
 */

export { type Backend, createBackend } from "./backend.ts";
export {
  type Balancer,
  createBalancer,
  type PickContext,
  roundRobin,
  smoothWeightedRoundRobin,
} from "./balancer.ts";
export { createPool, type Pool, type PoolOptions } from "./pool.ts";
