/**
 * Starts the benchmark's three loopback backends (`_backend_server.ts`) as
 * separate `deno run` processes, away from the proxy's event loop: either
 * one process serving all three ports or one process per port.
 *
 * One process is the default. On a 2-core machine, with wrk and the proxy
 * already busy, three processes add no CPU to share, only wake-ups: measured
 * behind HAProxy and nginx (6 alternating 5 s runs each), one process spent
 * about 14 µs of backend CPU per request against 23–25 µs for three (each
 * event loop then wakes for a third of the traffic and batches less), and
 * the proxies reached about 12–16% more requests per second. Three processes
 * also take three times the memory.
 *
 * @module
 */

import type { Target } from "./_aegis.ts";
import { type Child, spawn } from "./_procs.ts";

const SCRIPT = new URL("./_backend_server.ts", import.meta.url).pathname;
const FLOOR_SCRIPT = new URL("./_floor_server.ts", import.meta.url).pathname;

/** The running backends. */
export interface Backends {
  /** One port per backend, all on 127.0.0.1. */
  readonly ports: readonly number[];
  /** The process serving `port`. */
  pidOf(port: number): number;
  /** Stops every backend process. */
  stop(): Promise<void>;
}

/** Runs one of the benchmark's Deno scripts and waits for the ports it prints. */
async function startScript(
  name: string,
  script: string,
  args: string[],
): Promise<[Child, number[]]> {
  const child = spawn(name, Deno.execPath(), [
    "run",
    "--no-prompt",
    "--allow-net=127.0.0.1",
    script,
    ...args,
  ]);
  try {
    const m = await child.waitFor(/^ports? ([\d,]+)$/m, 20_000);
    return [child, m[1]!.split(",").map(Number)];
  } catch (e) {
    await child.stop();
    throw e;
  }
}

const startProcess = (index: number, count: number) =>
  startScript(`backends #${index + 1}`, SCRIPT, ["--count", String(count)]);

/**
 * Starts the "deno floor" target (`_floor_server.ts`) in front of
 * `backends`; with `relayHeaders`, the "deno floor headers" one.
 */
export async function startFloor(backends: Backends, relayHeaders = false): Promise<Target> {
  const name = relayHeaders ? "deno floor headers" : "deno floor";
  const [child, [port]] = await startScript(name, FLOOR_SCRIPT, [
    "--backends",
    backends.ports.join(","),
    ...(relayHeaders ? ["--relay-headers"] : []),
  ]);
  return { name, port: port!, pid: child.pid, stop: () => child.stop() };
}

/**
 * Starts `count` backends in `processes` processes (1, or one per backend).
 *
 * @example
 * ```ts
 * const backends = await startBackends(3, 1);
 * console.log(backends.ports); // [40001, 40002, 40003]
 * await backends.stop();
 * ```
 */
export async function startBackends(count: number, processes: number): Promise<Backends> {
  const started: Array<[Child, number[]]> = [];
  try {
    if (processes <= 1) started.push(await startProcess(0, count));
    else {
      started.push(
        ...await Promise.all(Array.from({ length: count }, (_, i) => startProcess(i, 1))),
      );
    }
  } catch (e) {
    await Promise.all(started.map(([c]) => c.stop()));
    throw e;
  }
  const owner = new Map<number, number>();
  for (const [child, ports] of started) for (const p of ports) owner.set(p, child.pid);
  return {
    ports: started.flatMap(([, ports]) => ports),
    pidOf: (port) => owner.get(port)!,
    stop: async () => {
      await Promise.all(started.map(([c]) => c.stop()));
    },
  };
}
