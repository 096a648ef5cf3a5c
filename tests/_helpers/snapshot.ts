/**
 * Snapshot sources for tests: one listener, `default`, over the pools given,
 * with a limiter fixed at the values given.
 *
 * @module
 */

import type { Pool } from "../../src/pool/mod.ts";
import type { LimiterSnapshot, ListenerSource } from "../../src/snapshot/mod.ts";

/** A fixed limiter view. */
export type LimiterView = Omit<LimiterSnapshot, "lastChange">;

/** The listener `default` at `url`, routing to every pool of `pools`. */
export function oneListener(
  url: string,
  pools: ReadonlyArray<readonly [string, Pool]>,
  limiter: LimiterView,
): { pools: () => ReadonlyArray<readonly [string, Pool]>; listeners: () => ListenerSource[] } {
  return {
    pools: () => pools,
    listeners: () => [{
      name: "default",
      url,
      pools: pools.map(([name]) => name),
      limiter: () => limiter,
      lastRateChange: () => undefined,
    }],
  };
}
