/**
 * The runtime: what one configuration derives, per pool (backends,
 * transport, health loops) and per listener (routes, limiter, adaptive
 * loop, handler), replaced whole on reload while the state of what stays
 * carries over.
 *
 * @module
 */

export { buildRuntime, type Runtime } from "./runtime.ts";
export { buildPoolRuntime, type PoolRuntime } from "./pool_runtime.ts";
export { buildListenerRuntime, type ListenerRuntime } from "./listener_runtime.ts";
export {
  type ControlledParts,
  type LastRateChange,
  type PoolTransport,
  type Shared,
} from "./shared.ts";
export { RETIRE_CHECK_MS, Retirements } from "./retire.ts";
export { transportFor } from "./transports.ts";
