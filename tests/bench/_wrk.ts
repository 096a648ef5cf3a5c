/**
 * Drives load with wrk (https://github.com/wg/wrk) and parses its report.
 *
 * @module
 */

import { run, spawn } from "./_procs.ts";

/** What one wrk run measured. */
export interface WrkResult {
  /** Completed requests per second. */
  readonly rps: number;
  /** Requests completed in the run (the divisor of CPU per request). */
  readonly requests: number;
  /** Latency percentiles, in milliseconds (from `--latency`). */
  readonly p50: number;
  readonly p99: number;
  /** Socket errors (connect + read + write + timeout). */
  readonly socketErrors: number;
  /** Responses with a status of 400 or more (wrk's "Non-2xx or 3xx"). */
  readonly badStatus: number;
}

/** One wrk invocation. */
export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  /** A Lua script (`-s`), e.g. one that turns requests into POSTs. */
  readonly script?: string;
  /** Extra request headers (`-H`), as `Name: value`. */
  readonly headers?: readonly string[];
}

/** True when `wrk` can be run. */
export async function wrkInstalled(): Promise<boolean> {
  return (await run("wrk", ["--version"])) !== undefined;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses wrk's duration notation (`812.00us`, `1.20ms`, `2.01s`) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`unexpected wrk duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * Parses the report of `wrk --latency`.
 *
 * @example
 * ```ts
 * parseWrk(
 *   "  Latency Distribution\n     50%  1.00ms\n     99%  3.00ms\n" +
 *     "  503 requests in 5.00s, 40.00KB read\nRequests/sec: 100.5\n",
 * );
 * // { rps: 100.5, requests: 503, p50: 1, p99: 3, socketErrors: 0, badStatus: 0 }
 * ```
 */
export function parseWrk(report: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(report);
  const p50 = /^\s+50%\s+(\S+)/m.exec(report);
  const p99 = /^\s+99%\s+(\S+)/m.exec(report);
  const requests = /^\s*(\d+) requests in /m.exec(report);
  if (!rps || !p50 || !p99 || !requests) throw new Error(`cannot parse wrk output:\n${report}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(report);
  return {
    rps: Number(rps[1]),
    requests: Number(requests[1]),
    p50: parseDuration(p50[1]!),
    p99: parseDuration(p99[1]!),
    socketErrors: sock ? sock.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    badStatus: bad ? Number(bad[1]) : 0,
  };
}

/** Runs `wrk -t1 -cN -dS --latency …` and parses its report. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = [
    "-t1",
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    "--latency",
    ...(options.script ? ["-s", options.script] : []),
    ...(options.headers ?? []).flatMap((h) => ["-H", h]),
    options.url,
  ];
  const wrk = spawn("wrk", "wrk", args);
  const status = await wrk.status;
  await wrk.stop();
  if (!status.success) throw new Error(`wrk ${args.join(" ")} failed:\n${wrk.output()}`);
  return parseWrk(wrk.output());
}

/** The Lua script of scenario 4: every request a POST with a `bytes`-long body. */
export function postScript(bytes: number): string {
  return [
    'wrk.method = "POST"',
    `wrk.body = string.rep("x", ${bytes})`,
    'wrk.headers["Content-Type"] = "application/octet-stream"',
    "",
  ].join("\n");
}
