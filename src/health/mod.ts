/**
 * Active health checks: the per-backend health state machine with warm-up,
 * and the probe loop that feeds it.
 *
 * @module
 */

export {
  type Health,
  type HealthChange,
  type HealthThresholds,
  HealthTracker,
  WARMUP_STEPS,
} from "./tracker.ts";
export {
  HEALTH_USER_AGENT,
  type HealthLoopOptions,
  httpProbe,
  type Probe,
  type ProbeResult,
  startHealthLoop,
} from "./checker.ts";
export { type Connector, connectProbe } from "./connect_probe.ts";
