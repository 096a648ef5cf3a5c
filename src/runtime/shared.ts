/**
 * What every runtime shares, built once per process: the logger, the
 * clocks, the counters, where transports come from and where retired ones
 * wait to be closed.
 *
 * @module
 */

import type { BreakerMemory } from "../breaker/mod.ts";
import type { Clock, Watchdog } from "../clock/mod.ts";
import type { ListenerConfig, PoolConfig } from "../config/mod.ts";
import type { ClosableTransport } from "../core/mod.ts";
import type { EventLog } from "../events/mod.ts";
import type { Probe } from "../health/mod.ts";
import type { AdaptiveChange, ClientLimiter } from "../limit/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { DurationHistograms, StatsByName, WebSocketStats } from "../metrics/mod.ts";
import type { RequestTracer } from "../tracing/mod.ts";
import type { Retirements } from "./retire.ts";

/** The last adaptive rate change, with its wall-clock time. */
export type LastRateChange = AdaptiveChange & { readonly time: number };

/** A pool's transport, and whether the pool closes it when it goes away. */
export interface PoolTransport {
  readonly transport: ClosableTransport;
  /** False for a transport given to Aegis from outside (tests): its owner closes it. */
  readonly owned: boolean;
}

/**
 * The isolates of one process with `server.workers` above 1 (`workers/`):
 * what they share, and which of them runs the loops. Absent in one isolate.
 */
export interface ControlledParts {
  /** The listener's limiter over the buckets every isolate shares. */
  limiterFor(config: ListenerConfig): ClientLimiter;
  /** The cells every isolate's breaker of backend `id` of `pool` shares. */
  breakerFor(pool: string, id: string): BreakerMemory | undefined;
  /**
   * True in the control isolate, which runs the health checks, the
   * adaptive loops and the bucket purges for the whole process; false in a
   * worker, which runs none of them and takes backend health from control.
   */
  readonly controls: boolean;
}

/** What every runtime shares: built once per process. */
export interface Shared {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly watchdog: Watchdog;
  readonly events: EventLog;
  /** Traffic counters, by listener name. */
  readonly stats: StatsByName;
  readonly durations: DurationHistograms;
  /** Each listener's last adaptive rate change, by listener name. */
  readonly rateChanges: Map<string, LastRateChange>;
  /** WebSocket sessions and bytes, every listener's. */
  readonly webSockets: WebSocketStats;
  /** How health checks probe a backend; HTTP through the pool's transport by default. */
  readonly probe?: Probe;
  /** Builds the transport of a pool that starts. */
  readonly transportFor: (config: PoolConfig) => PoolTransport;
  /** Transports of pools that went away, closed once their requests are done. */
  readonly retired: Retirements;
  /** The tracer in force (a reload may change it); tracing off when absent. */
  readonly tracer?: () => RequestTracer;
  /** With several isolates: what they share and who runs the loops. Absent in one isolate. */
  readonly controlled?: ControlledParts;
}
