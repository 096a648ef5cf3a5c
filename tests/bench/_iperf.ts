/**
 * Drives the L4 scenarios' byte and datagram load with iperf3
 * (https://iperf.fr, Debian package `iperf3`) and reads its `--json` report.
 *
 * iperf3 opens a TCP control connection to the server's port and then its
 * data streams to the same port (TCP), or sends its datagrams to the same
 * port number over UDP: a proxy in between needs a TCP and, for `-u`, a UDP
 * listener on one port, both relayed to the server's.
 *
 * @module
 */

import { freePort } from "./_net.ts";
import { type Child, run, spawn } from "./_procs.ts";

/** What one iperf3 client run measured, from the receiving side. */
export interface IperfResult {
  readonly protocol: "TCP" | "UDP";
  /** Payload bits per second that reached the server. */
  readonly bitsPerSecond: number;
  /** Length of the measured run, seconds. */
  readonly seconds: number;
  /** UDP: datagrams the client sent. 0 for TCP. */
  readonly sent: number;
  /** UDP: datagrams the server received (sent − lost). 0 for TCP. */
  readonly delivered: number;
}

/** The iperf3 server the L4 scenarios' load goes to. */
export interface IperfServer {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** One iperf3 client run. */
export interface IperfOptions {
  /** Port on 127.0.0.1: the server's, or a proxy's in front of it. */
  readonly port: number;
  readonly seconds: number;
  /** Send UDP datagrams at a fixed rate instead of one TCP stream at full speed. */
  readonly udp?: {
    /** Offered load, datagrams per second. */
    readonly datagramsPerSecond: number;
    /** Payload bytes per datagram (`-l`). */
    readonly bytes: number;
  };
}

/** `iperf 3.12`, or undefined when iperf3 is not installed. */
export async function iperfVersion(): Promise<string | undefined> {
  const out = await run("iperf3", ["--version"]);
  if (!out || out.code !== 0) return undefined;
  return /iperf \S+/.exec(out.stdout)?.[0] ?? "iperf3 (version unknown)";
}

/**
 * Parses the report of `iperf3 --json` (the client's). Throws with iperf3's
 * own message when the run failed.
 *
 * Rates come from the receiving side (`end.sum_received`): bytes that only
 * left the client prove nothing about the path. For UDP, iperf3 counts
 * datagrams missing from the sequence as lost, so delivered = packets −
 * lost_packets. Reports from before iperf3 3.7 have only `end.sum`.
 *
 * @example
 * ```ts
 * parseIperf(await Deno.readTextFile("tests/bench/testdata/iperf3_udp.json")).delivered; // 42604
 * ```
 */
export function parseIperf(text: string): IperfResult {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  let report: IperfReport;
  try {
    report = JSON.parse(text.slice(start, end + 1));
  } catch {
    throw new Error(`cannot parse iperf3 output:\n${text.slice(0, 2000)}`);
  }
  if (report.error) throw new Error(`iperf3: ${report.error}`);
  const protocol = report.start?.test_start?.protocol;
  const sum = report.end?.sum_received ?? report.end?.sum;
  if ((protocol !== "TCP" && protocol !== "UDP") || !sum) {
    throw new Error(`iperf3 report without a result:\n${text.slice(0, 2000)}`);
  }
  const lost = Math.max(0, sum.lost_packets ?? 0);
  const sent = protocol === "UDP" ? (report.end?.sum_sent?.packets ?? sum.packets ?? 0) : 0;
  return {
    protocol,
    bitsPerSecond: sum.bits_per_second,
    seconds: sum.seconds,
    sent,
    delivered: protocol === "UDP" ? Math.max(0, (sum.packets ?? 0) - lost) : 0,
  };
}

/** The fields of iperf3's JSON report that {@linkcode parseIperf} reads. */
interface IperfReport {
  error?: string;
  start?: { test_start?: { protocol?: string } };
  end?: { sum?: IperfSum; sum_sent?: IperfSum; sum_received?: IperfSum };
}

interface IperfSum {
  seconds: number;
  bits_per_second: number;
  packets?: number;
  lost_packets?: number;
}

/**
 * Starts `iperf3 -s` on a free port of 127.0.0.1 and waits until it accepts
 * connections. It serves one test at a time, which is all the benchmark's
 * serial runs need; a connection that closes without a test (a readiness
 * probe) only makes it print an error and listen again.
 */
export async function startIperfServer(): Promise<IperfServer> {
  const port = freePort();
  const child = spawn("iperf3 server", "iperf3", ["-s", "-B", "127.0.0.1", "-p", String(port)]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exited()) throw new Error(`iperf3 -s exited:\n${child.output()}`);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await child.stop();
        throw new Error(`iperf3 -s did not listen on ${port}: ${e}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, pid: child.pid, stop: () => child.stop() };
}

/**
 * The client's arguments: one stream, no interval reports (`-i 0`, so the
 * JSON stays small), and a bounded control-connection setup.
 */
export function iperfArgs({ port, seconds, udp }: IperfOptions): string[] {
  return [
    "-c",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    String(seconds),
    "-i",
    "0",
    "--connect-timeout",
    "5000",
    "--json",
    // -b counts payload bits: rate × length × 8 offers exactly that many datagrams.
    ...(udp
      ? ["-u", "-l", String(udp.bytes), "-b", String(udp.datagramsPerSecond * udp.bytes * 8)]
      : []),
  ];
}

/**
 * Runs one iperf3 client to completion and parses its report. A relay that
 * never answers iperf3's UDP handshake would leave the client waiting
 * forever, so it is stopped 15 s after its run should have ended.
 */
export async function runIperf(options: IperfOptions): Promise<IperfResult> {
  const child: Child = spawn("iperf3", "iperf3", iperfArgs(options), { tailBytes: 1 << 20 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.stop(1_000);
  }, (options.seconds + 15) * 1000);
  try {
    await child.status;
  } finally {
    clearTimeout(timer);
    await child.stop();
  }
  if (timedOut) throw new Error(`iperf3 did not finish in ${options.seconds + 15} s`);
  return parseIperf(child.output());
}
