/**
 * The benchmark's report as markdown: the machine and the method, what was
 * run and skipped, then the HTTP table (with scenario 11's streaming table)
 * and targets and the L4 table and targets, each part only when its
 * scenarios ran.
 *
 * @module
 */

import type { L4Runs } from "./_l4_table.ts";
import { renderL4Checks, renderL4Table } from "./_l4_table.ts";
import { MAX_CONNECTIONS } from "./_aegis.ts";
import { type Options, SCENARIOS } from "./_scenarios.ts";
import { renderStreamTable, type StreamRuns } from "./_stream_table.ts";
import { renderChecks, renderTable, type ScenarioRuns } from "./_table.ts";

/** Everything one report is made of. */
export interface ReportInput {
  readonly opts: Options;
  /** The machine line (`Machine: 2 cores …`). */
  readonly machine: string;
  /** HTTP targets, in run order. */
  readonly httpTargets: readonly string[];
  /** L4 targets that ran, in run order. */
  readonly l4Targets: readonly string[];
  /** The iperf3 version (`iperf 3.12`), if installed. */
  readonly iperf?: string;
  readonly notes: ReadonlySet<string>;
  readonly runs: readonly ScenarioRuns[];
  /** Scenario 11, when it ran. */
  readonly stream?: StreamRuns;
  readonly l4Runs: readonly L4Runs[];
  /** Idle connections held in scenario 7. */
  readonly idleCount: number;
}

const int = new Intl.NumberFormat("en-US");

/** The method bullets of the HTTP scenarios. */
function httpMethod({ opts, httpTargets }: ReportInput): string[] {
  return [
    `- Method: per scenario, fresh processes, ${opts.warmup} s warm-up per target, then ` +
    `${opts.rounds} round(s) × ${opts.seconds} s with targets interleaved ` +
    `(${httpTargets.join(", ")}); medians of req/s, p50 and p99; errors summed ` +
    "over rounds (socket errors + responses ≥ 400); peak RSS the highest over rounds, of the " +
    "target's process and its children. CPU/req: the user + system time of the same " +
    "processes (`/proc/PID/stat`, read just before and after each wrk run) divided by the " +
    "requests wrk completed, median over rounds; in parentheses for a proxy, the ratio to the " +
    "deno floor's (direct's is the backend's own cost). Load from `wrk -t1` on the same " +
    "machine. Aegis runs from the working tree as it is when each scenario starts.",
    `- Backends: 3 ports on 127.0.0.1 (Deno.serve, \`tests/bench/_backend_server.ts\`) in ` +
    `${opts.backendProcesses === 1 ? "one process" : "three processes"}. ` +
    "direct = wrk straight at one backend port (wrk cannot round-robin); its RSS is that " +
    "backend process's.",
    "- Aegis: the real CLI (`src/main.ts` with the `compile` task's flags, `--headless`), " +
    "every default feature on (rate limiter, circuit breakers, health checks, metrics, " +
    "security headers); `logging.level: warn`, so **no access logs** (except `aegis h1 log`, " +
    "at `info`, stdout to /dev/null); `rate_limit.exempt: [127.0.0.0/8]` because wrk is a " +
    "single client address (the limiter phase still runs for every request); " +
    `\`server.max_connections: ${MAX_CONNECTIONS}\` because \`auto\` cannot read the ` +
    "descriptor limit under Aegis's permissions and would assume 4,096, refusing scenario 7's " +
    "idle clients past ~2,400.",
  ];
}

/** The method bullet of scenario 11. */
function streamMethod({ opts, stream }: ReportInput): string {
  return `- Scenario 11: one body of ${stream?.mib ?? opts.streamMiB} MiB through direct and ` +
    "each Aegis target, three times in a row: down (`GET /stream?bytes=N`, the backend " +
    "streaming 64 KiB chunks), up with `Content-Length: N`, up with `Transfer-Encoding: " +
    "chunked` (both to the backend's POST sink). The client is curl in its own process " +
    "(downloads to /dev/null, uploads from `head -c N /dev/zero` through a pipe), as fast as " +
    "the target takes the bytes; one warm-up transfer of up to 32 MiB in each direction " +
    "first. RSS raised = peak RSS during the transfer (as for peak RSS above, reset at its " +
    "start) − RSS just before; the highest over rounds. Aegis runs with " +
    "`server.max_body_bytes` raised to the body's size for this scenario only (the 10 MiB " +
    "default would answer 413).";
}

/** The method bullet of the L4 scenarios. */
function l4Method({ opts, l4Targets, iperf }: ReportInput): string {
  return `- L4 method (scenarios 8–10): the same fresh processes, warm-up and interleaved ` +
    `rounds (${l4Targets.join(", ") || "no target ran"}). Load from ${iperf ?? "iperf3"} on ` +
    "127.0.0.1 (client and `iperf3 -s` on the same machine; one stream; iperf3 sends its " +
    "control connection, its data and its datagrams to one port, so each relay has a TCP " +
    "and a UDP listener there) and, for 9, `wrk -t1 -c64` with `Connection: close` at one " +
    "port of the HTTP backend behind the relay, so every request is a new connection " +
    "through it. 8: Gbit/s received by the iperf3 server. 10: `iperf3 -u` offering " +
    `${int.format(opts.udpRate)} datagrams/s of ${opts.udpBytes} bytes to every target ` +
    "alike; delivered = datagrams the iperf3 server received (sent − lost), per second; " +
    "loss = the share of sent datagrams that never arrived. direct = the load straight at " +
    "the backend; its RSS is that backend process's. Ratios are to direct and to the peer " +
    "the issue compares with (HAProxy for TCP, nginx for UDP).";
}

/**
 * The whole report.
 *
 * @example
 * ```ts
 * console.log(renderReport({ opts, machine, httpTargets, l4Targets, notes, runs, l4Runs, idleCount }));
 * ```
 */
export function renderReport(input: ReportInput): string {
  const { opts, machine, notes, runs, stream, l4Runs, idleCount } = input;
  // Fewer rounds or shorter runs than the defaults: medians of little data.
  const quick = opts.rounds < 3 || opts.seconds < 5;
  const lines = [
    `## Aegis end-to-end benchmark${quick ? " (quick run: indicative only)" : ""}`,
    "",
    `- ${machine}`,
    ...(runs.length || stream ? httpMethod(input) : []),
    ...(stream ? [streamMethod(input)] : []),
    ...(l4Runs.length ? [l4Method(input)] : []),
    ...[...notes].map((n) => `- ${n}`),
  ];
  if (runs.length || stream) {
    lines.push(
      "- In parentheses: ratio to direct. added = target − direct.",
      "",
      ...SCENARIOS.filter((s) => opts.scenarios.includes(s.id)).map((s) =>
        `${s.id}. ${s.title}${s.idle ? ` (${idleCount} idle)` : ""}`
      ),
      ...(runs.length ? ["", renderTable(runs, idleCount)] : []),
      ...(stream ? ["", renderStreamTable(stream)] : []),
      "",
      renderChecks(runs, idleCount, stream),
    );
  }
  if (l4Runs.length) {
    lines.push(
      "",
      ...l4Runs.map(({ scenario: s }) => `${s.id}. ${s.title}`),
      "",
      renderL4Table(l4Runs),
      "",
      renderL4Checks(l4Runs),
    );
  }
  lines.push("");
  return lines.join("\n");
}
