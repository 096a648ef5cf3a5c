/**
 * Pool limits for h1 transport tests: roomy enough that no test waits on
 * the pool unless it sets a limit of its own.
 *
 * @module
 */

import type { H1Options } from "../../src/h1/mod.ts";

/** Options for `h1Transport` in tests. */
export const H1_TEST_OPTIONS: H1Options = {
  maxConnections: 8,
  maxIdle: 8,
  idleTimeoutMs: 10_000,
  connectTimeoutMs: 2000,
  maxHeaderBytes: 64 * 1024,
};
