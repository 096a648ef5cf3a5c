/**
 * CPU time a target spends during one measured run: user + system time of
 * its process and its direct children (nginx's worker), read from
 * `/proc/PID/stat` just before and just after the run. Divided by the
 * requests served, it is the cost of a request, a figure that the shared
 * machine's noise disturbs far less than requests per second.
 *
 * Deno reads `/proc` only with `--allow-all` (even with `--allow-read=/proc`
 * it answers `NotCapable`), so `cat` reads it, as for peak RSS.
 *
 * @module
 */

import { processTree, run } from "./_procs.ts";

/**
 * utime + stime (fields 14 and 15) of one `/proc/PID/stat` line, in clock
 * ticks. The command name (field 2) is in parentheses and may hold spaces
 * and parentheses itself, so fields are counted after its last `)`.
 *
 * @example
 * ```ts
 * cpuTicksOf("42 (deno) S 1 42 42 0 -1 4194560 900 0 0 0 250 30 0 0 20 0 5 0 …"); // 280
 * ```
 */
export function cpuTicksOf(stat: string): number {
  const close = stat.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc/PID/stat line: ${stat.slice(0, 60)}`);
  // After ")": field 3 (state) is index 0, so field N is index N - 3.
  const fields = stat.slice(close + 1).trim().split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`no utime and stime in /proc/PID/stat line: ${stat.slice(0, 60)}`);
  }
  return utime + stime;
}

let ticksPerSecond: Promise<number> | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux). */
function clockTicks(): Promise<number> {
  ticksPerSecond ??= run("getconf", ["CLK_TCK"]).then((out) => Number(out?.stdout.trim()) || 100);
  return ticksPerSecond;
}

/** Summed CPU ticks of `pids`; a process that has exited meanwhile counts for nothing. */
async function readTicks(pids: readonly number[]): Promise<number> {
  const out = await run("cat", pids.map((p) => `/proc/${p}/stat`));
  return (out?.stdout ?? "").split("\n").filter(Boolean).reduce((n, l) => n + cpuTicksOf(l), 0);
}

/** A running measurement; {@linkcode CpuMeter.stop} gives the CPU seconds spent since it started. */
export interface CpuMeter {
  stop(): Promise<number>;
}

/**
 * Starts counting the CPU time of `pid` and its direct children.
 *
 * @example
 * ```ts
 * const meter = await startCpuMeter(child.pid);
 * const { requests } = await runWrk(options);
 * const usPerRequest = (await meter.stop()) / requests * 1e6;
 * ```
 */
export async function startCpuMeter(pid: number): Promise<CpuMeter> {
  const pids = await processTree(pid);
  const hz = await clockTicks();
  const before = await readTicks(pids);
  return { stop: async () => ((await readTicks(pids)) - before) / hz };
}
