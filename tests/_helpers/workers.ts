/**
 * Aegis with worker isolates (`server.workers`) in the test process: the
 * control isolate here, real workers beside it, every listener on an
 * ephemeral loopback port; the control's logs captured as parsed JSON, the
 * workers' kept in their event logs (they reach the snapshot's events).
 *
 * @module
 */

import type { Config } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { startWorkers, type Workers, type WorkersOptions } from "../../src/workers/mod.ts";

/** A running control isolate and its workers. */
export interface TestWorkers extends AsyncDisposable {
  readonly workers: Workers;
  /** The first listener's port, bound by every worker. */
  readonly port: number;
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  /** `http://127.0.0.1:port` of the admin listener. */
  readonly adminUrl: string;
  /** The control isolate's log lines so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
}

/** Starts `count` workers serving `config` (built by `testConfig`), ready to serve. */
export async function startTestWorkers(
  config: Config,
  count = 2,
  options: WorkersOptions = {},
): Promise<TestWorkers> {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: "debug",
    format: "json",
    sink: (line) => logs.push(JSON.parse(line)),
  });
  const workers = startWorkers(config, count, {
    logger,
    logToEvents: true,
    drainIdleGraceMs: 20,
    ...options,
  });
  try {
    await workers.ready;
  } catch (e) {
    await workers.shutdown();
    throw e;
  }
  const port = [...workers.listeners.values()][0]!.port;
  return {
    workers,
    port,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${workers.adminAddr!.port}`,
    logs,
    [Symbol.asyncDispose]: () => workers.shutdown(),
  };
}
