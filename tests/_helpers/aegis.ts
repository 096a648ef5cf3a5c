/**
 * Aegis in-process for integration tests: the real listener on an ephemeral
 * loopback port, logs captured as parsed JSON.
 *
 * @module
 */

import { type Aegis, type AegisOptions, startAegis } from "../../src/app.ts";
import type { Config } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";

/** A running in-process Aegis. */
export interface TestAegis extends AsyncDisposable {
  readonly aegis: Aegis;
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  readonly port: number;
  /** Every log line so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  /** Access-log lines only. */
  accessLogs(): Array<Record<string, unknown>>;
  /** `http://127.0.0.1:port` of the admin server. */
  readonly adminUrl: string;
  /** `http://127.0.0.1:port` of the metrics listener; `""` without `admin.metrics_address`. */
  readonly metricsUrl: string;
}

/**
 * How long idle keep-alive connections stay open once draining, in tests that
 * do not study draining: the runtime's `fetch` keeps every connection idle
 * in its pool, so at the production grace (1 s) every test's shutdown would
 * wait a second. Short, not zero, so the grace path still runs everywhere;
 * `tests/integration/drain_test.ts` uses the real value.
 */
const TEST_DRAIN_IDLE_GRACE_MS = 20;

/** Starts Aegis with `config` (built by `testConfig`). Dispose it to shut down. */
export function startTestAegis(config: Config, options: AegisOptions = {}): TestAegis {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: "debug",
    format: "json",
    sink: (line) => logs.push(JSON.parse(line)),
  });
  const aegis = startAegis(config, {
    logger,
    drainIdleGraceMs: TEST_DRAIN_IDLE_GRACE_MS,
    ...options,
  });
  const port = aegis.addr.port;
  return {
    aegis,
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    accessLogs: () => logs.filter((l) => l.msg === "request"),
    adminUrl: aegis.adminAddr ? `http://127.0.0.1:${aegis.adminAddr.port}` : "",
    metricsUrl: aegis.metricsAddr ? `http://127.0.0.1:${aegis.metricsAddr.port}` : "",
    [Symbol.asyncDispose]: () => aegis.shutdown(),
  };
}
