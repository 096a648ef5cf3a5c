/**
 * The end-to-end load benchmark (`deno task bench`): wrk against Aegis (the
 * real command line, per upstream transport), against the backends directly,
 * and against HAProxy and nginx when installed, over seven HTTP scenarios;
 * then iperf3 and wrk through Aegis's TCP and UDP relays, HAProxy `mode tcp`
 * and nginx `stream` in three L4 scenarios. Targets are interleaved round by
 * round (A B C A B C …) so that the machine's drift hits all of them alike,
 * and the report gives medians; scenario 11 streams one large body through
 * direct and Aegis down and up (curl) and reports how far their memory rose.
 *
 * ```sh
 * deno task bench                                   # everything, 3 rounds × 5 s
 * deno task bench --rounds 1 --seconds 2 --scenarios 1,5
 * deno task bench --scenarios l4                    # only the TCP and UDP relays
 * deno task bench --scenarios 11 --stream-mib 64    # streaming memory, smaller bodies
 * deno task bench --help
 * ```
 *
 * The report (one markdown table and the targets) goes to stdout and
 * to `--out FILE`; progress goes to stderr. Every process and temporary file
 * is removed on exit, on an error, and on Ctrl+C.
 *
 * @module
 */

import type { Target } from "./_aegis.ts";
import { startBackends } from "./_backends.ts";
import { iperfVersion } from "./_iperf.ts";
import { runL4Scenario } from "./_l4_run.ts";
import { L4_SCENARIOS } from "./_l4_scenarios.ts";
import type { L4Runs } from "./_l4_table.ts";
import { planL4 } from "./_l4_targets.ts";
import { openIdleConnections } from "./_net.ts";
import { startCpuMeter } from "./_cpu.ts";
import { cleanup, cleanupOnSignals, makeTempDir, run } from "./_procs.ts";
import { type RssProbe, startRssProbe } from "./_rss.ts";
import { type Options, parseOptions, type Scenario, SCENARIOS, USAGE } from "./_scenarios.ts";
import { renderReport } from "./_report.ts";
import { curlInstalled, runStreamScenario } from "./_stream.ts";
import type { StreamRuns } from "./_stream_table.ts";
import type { Sample, ScenarioRuns } from "./_table.ts";
import { plan, type Starter } from "./_targets.ts";
import { postScript, runWrk, wrkInstalled } from "./_wrk.ts";

const progress = (text: string) => console.error(text);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One measured run of a target. */
interface RunSpec {
  /** wrk duration. */
  readonly seconds: number;
  /** wrk Lua script (scenario 4). */
  readonly script?: string;
  /** Idle keep-alive connections to hold open during the run (scenario 7). */
  readonly idle?: number;
}

/** One measured run: optional idle connections, peak RSS and CPU time, wrk. */
async function measure(
  target: Target,
  scenario: Scenario,
  { seconds, script, idle: idleCount = 0 }: RunSpec,
): Promise<Sample & { rssMode: RssProbe["mode"] }> {
  // Let the previous run's connections and timers settle first.
  await sleep(300);
  const idle = idleCount > 0 ? await openIdleConnections(target.port, idleCount) : undefined;
  let probe: RssProbe | undefined;
  try {
    probe = await startRssProbe(target.pid);
    // Opening the idle connections is not part of the run's CPU.
    const cpu = await startCpuMeter(target.pid);
    const result = await runWrk({
      url: `http://127.0.0.1:${target.port}${scenario.path}`,
      connections: scenario.connections,
      seconds,
      script,
      headers: scenario.close ? ["Connection: close"] : [],
    });
    const cpuSeconds = await cpu.stop();
    const rssMode = probe.mode;
    const rssKiB = await probe.stop();
    probe = undefined;
    return { ...result, rssKiB, cpuSeconds, rssMode, idleHeld: idle?.count ?? 0 };
  } finally {
    await probe?.stop();
    idle?.close();
  }
}

/** What every scenario shares. */
interface Context {
  readonly opts: Options;
  readonly starters: Map<string, Starter>;
  /** Temporary directory for configurations and scripts. */
  readonly dir: string;
  /** Idle connections to hold in scenario 7 (`--idle`, capped by the fd limit). */
  readonly idleCount: number;
  /** Findings for the report, deduplicated. */
  readonly notes: Set<string>;
}

/** Runs one scenario against every target: fresh processes, warm-up, interleaved rounds. */
async function runScenario(
  scenario: Scenario,
  { opts, starters, dir, idleCount, notes }: Context,
): Promise<ScenarioRuns> {
  progress(`\nscenario ${scenario.id}: ${scenario.title}`);
  let script: string | undefined;
  if (scenario.postBytes) {
    script = `${dir}/post-${scenario.postBytes}.lua`;
    await Deno.writeTextFile(script, postScript(scenario.postBytes));
  }
  const backends = await startBackends(3, opts.backendProcesses);
  const targets: Target[] = [];
  const samples = new Map<string, Sample[]>();
  try {
    for (const [name, start] of starters) {
      targets.push(await start(backends, scenario));
      samples.set(name, []);
    }
    if (opts.warmup > 0) {
      progress(`  warm-up ${opts.warmup} s per target`);
      for (const t of targets) await measure(t, scenario, { seconds: opts.warmup, script });
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const t of targets) {
        const idle = scenario.idle ? idleCount : 0;
        const s = await measure(t, scenario, { seconds: opts.seconds, script, idle });
        samples.get(t.name)!.push(s);
        notes.add(
          s.rssMode === "hwm"
            ? "Peak RSS: VmHWM, reset at the start of each run (exact)."
            : "Peak RSS: VmRSS sampled every 200 ms (VmHWM could not be reset; may miss spikes).",
        );
        if (s.idleHeld < idle) {
          notes.add(
            `Scenario 7, ${t.name}, round ${round}: only ${s.idleHeld} of ${idle} idle ` +
              "connections could be opened.",
          );
        }
        progress(
          `  round ${round}/${opts.rounds}  ${t.name.padEnd(11)} ${
            Math.round(s.rps).toString().padStart(7)
          } req/s  p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms  errors ${
            s.socketErrors + s.badStatus
          }  cpu ${((s.cpuSeconds / Math.max(1, s.requests)) * 1e6).toFixed(0)} µs/req  rss ${
            (s.rssKiB / 1024).toFixed(1)
          } MiB` +
            (scenario.idle ? `  idle held ${s.idleHeld}/${idle}` : ""),
        );
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
    await backends.stop();
  }
  return { scenario, samples };
}

/** Machine facts for the report's header. */
async function machine(): Promise<{ line: string; fdLimit: number }> {
  const nproc = (await run("nproc", []))?.stdout.trim() ?? "?";
  const fdLimit = Number((await run("sh", ["-c", "ulimit -n"]))?.stdout.trim()) || 1024;
  let memory = "";
  try {
    memory = `, ${(Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1)} GiB RAM`;
  } catch {
    // Needs --allow-sys; the report does without.
  }
  const wrk = /wrk (\S+)/.exec((await run("wrk", ["--version"]))?.stdout ?? "")?.[1] ?? "?";
  return {
    line: `Machine: ${navigator.hardwareConcurrency} cores (nproc ${nproc})${memory}, ` +
      `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), wrk ${wrk}, fd limit ${fdLimit}, ` +
      `${new Date().toISOString()}.`,
    fdLimit,
  };
}

async function main(args: string[]): Promise<number> {
  let opts: Options | undefined;
  try {
    opts = parseOptions(args);
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!opts) {
    console.log(USAGE);
    return 0;
  }
  // In the order given, as before L4 scenarios existed.
  const http = opts.scenarios.flatMap((id) => SCENARIOS.filter((s) => s.id === id));
  const wrkScenarios = http.filter((s) => !s.stream);
  const l4 = opts.scenarios.flatMap((id) => L4_SCENARIOS.filter((s) => s.id === id));
  if ((wrkScenarios.length || l4.some((s) => s.load === "wrk-close")) && !await wrkInstalled()) {
    console.error(
      "bench: wrk is not installed. Install it with `apt-get install wrk` (Debian, Ubuntu) " +
        "or `brew install wrk` (macOS), then run `deno task bench` again.",
    );
    return 1;
  }
  if (http.some((s) => s.stream) && !await curlInstalled()) {
    console.error(
      "bench: scenario 11 streams its bodies with curl, which is not installed. Install it " +
        "with `apt-get install curl`, or leave scenario 11 out (`--scenarios http,l4`).",
    );
    return 1;
  }
  cleanupOnSignals();
  const dir = await makeTempDir();
  const { line, fdLimit } = await machine();
  const planNotes: string[] = [];
  const starters = http.length ? await plan(opts, dir, fdLimit, planNotes) : new Map();
  const l4Plan = l4.length ? await planL4(opts, dir, fdLimit, planNotes) : undefined;
  const iperf = l4.some((s) => s.load !== "wrk-close") ? await iperfVersion() : undefined;

  // Idle connections cost one descriptor here and one in the target.
  const idleCount = Math.min(opts.idle, Math.max(0, fdLimit - 1024));
  if (idleCount < opts.idle && opts.scenarios.includes(7)) {
    planNotes.push(
      `Scenario 7 holds only ${idleCount} idle connections: the fd limit is ${fdLimit} ` +
        `(raise it with \`ulimit -n ${opts.idle + 2048}\`).`,
    );
  }

  const runs: ScenarioRuns[] = [];
  let stream: StreamRuns | undefined;
  const notes = new Set(planNotes);
  for (const scenario of http) {
    if (scenario.stream) stream = await runStreamScenario(scenario, { opts, starters, notes });
    else runs.push(await runScenario(scenario, { opts, starters, dir, idleCount, notes }));
  }
  const l4Runs: L4Runs[] = [];
  for (const scenario of l4) {
    if (scenario.load !== "wrk-close" && !iperf) {
      const skipped = "iperf3 not installed: `apt-get install iperf3`";
      l4Runs.push({ scenario, samples: new Map(), unavailable: new Map(), skipped });
      continue;
    }
    l4Runs.push(await runL4Scenario(scenario, { opts, plan: l4Plan!, notes }));
  }

  const report = renderReport({
    opts,
    machine: line,
    httpTargets: [...starters.keys()],
    l4Targets: [...l4Plan?.starters.keys() ?? []],
    iperf,
    notes,
    runs,
    stream,
    l4Runs,
    idleCount,
  });
  console.log(`\n${report}`);
  if (opts.out) await Deno.writeTextFile(opts.out, report);
  return 0;
}

let code = 1;
try {
  code = await main(Deno.args);
} catch (e) {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  await cleanup();
}
Deno.exit(code);
