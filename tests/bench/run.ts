/**
 * The end-to-end load benchmark (`deno task bench`): wrk against Aegis (the
 * real command line, per upstream transport), against the backends directly,
 * and against HAProxy and nginx when installed, over seven scenarios. Targets
 * are interleaved round by round (A B C A B C …) so that the machine's drift
 * hits all of them alike, and the report gives medians.
 *
 * ```sh
 * deno task bench                                   # everything, 3 rounds × 5 s
 * deno task bench --rounds 1 --seconds 2 --scenarios 1,5
 * deno task bench --help
 * ```
 *
 * The report (one markdown table and the issue's targets) goes to stdout and
 * to `--out FILE`; progress goes to stderr. Every process and temporary file
 * is removed on exit, on an error, and on Ctrl+C.
 *
 * @module
 */

import type { Target } from "./_aegis.ts";
import { startBackends } from "./_backends.ts";
import { openIdleConnections } from "./_net.ts";
import { cleanup, cleanupOnSignals, makeTempDir, run } from "./_procs.ts";
import { type RssProbe, startRssProbe } from "./_rss.ts";
import { type Options, parseOptions, type Scenario, SCENARIOS, USAGE } from "./_scenarios.ts";
import { renderChecks, renderTable, type Sample, type ScenarioRuns } from "./_table.ts";
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

/** One measured run: optional idle connections, peak RSS, wrk. */
async function measure(
  target: Target,
  scenario: Scenario,
  { seconds, script, idle: idleCount = 0 }: RunSpec,
): Promise<Sample & { idleHeld: number; rssMode: RssProbe["mode"] }> {
  // Let the previous run's connections and timers settle first.
  await sleep(300);
  const idle = idleCount > 0 ? await openIdleConnections(target.port, idleCount) : undefined;
  let probe: RssProbe | undefined;
  try {
    probe = await startRssProbe(target.pid);
    const result = await runWrk({
      url: `http://127.0.0.1:${target.port}${scenario.path}`,
      connections: scenario.connections,
      seconds,
      script,
      headers: scenario.close ? ["Connection: close"] : [],
    });
    const rssMode = probe.mode;
    const rssKiB = await probe.stop();
    probe = undefined;
    return { ...result, rssKiB, rssMode, idleHeld: idle?.count ?? 0 };
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
      targets.push(await start(backends));
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
          }  rss ${(s.rssKiB / 1024).toFixed(1)} MiB` +
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
  if (!await wrkInstalled()) {
    console.error(
      "bench: wrk is not installed. Install it with `apt-get install wrk` (Debian, Ubuntu) " +
        "or `brew install wrk` (macOS), then run `deno task bench` again.",
    );
    return 1;
  }
  cleanupOnSignals();
  const dir = await makeTempDir();
  const { line, fdLimit } = await machine();
  const planNotes: string[] = [];
  const starters = await plan(opts, dir, fdLimit, planNotes);

  // Idle connections cost one descriptor here and one in the target.
  const idleCount = Math.min(opts.idle, Math.max(0, fdLimit - 1024));
  if (idleCount < opts.idle && opts.scenarios.includes(7)) {
    planNotes.push(
      `Scenario 7 holds only ${idleCount} idle connections: the fd limit is ${fdLimit} ` +
        `(raise it with \`ulimit -n ${opts.idle + 2048}\`).`,
    );
  }

  const runs: ScenarioRuns[] = [];
  const notes = new Set(planNotes);
  for (const id of opts.scenarios) {
    const scenario = SCENARIOS.find((s) => s.id === id)!;
    runs.push(await runScenario(scenario, { opts, starters, dir, idleCount, notes }));
  }

  // Fewer rounds or shorter runs than the defaults: medians of little data.
  const quick = opts.rounds < 3 || opts.seconds < 5;
  const report = [
    `## Aegis end-to-end benchmark${quick ? " (quick run: indicative only)" : ""}`,
    "",
    `- ${line}`,
    `- Method: per scenario, fresh processes, ${opts.warmup} s warm-up per target, then ` +
    `${opts.rounds} round(s) × ${opts.seconds} s with targets interleaved ` +
    `(${[...starters.keys()].join(", ")}); medians of req/s, p50 and p99; errors summed ` +
    "over rounds (socket errors + responses ≥ 400); peak RSS the highest over rounds, of the " +
    "target's process and its children. Load from `wrk -t1` on the same machine. Aegis runs " +
    "from the working tree as it is when each scenario starts.",
    `- Backends: 3 ports on 127.0.0.1 (Deno.serve, \`tests/bench/_backend_server.ts\`) in ` +
    `${opts.backendProcesses === 1 ? "one process" : "three processes"}. ` +
    "direct = wrk straight at one backend port (wrk cannot round-robin); its RSS is that " +
    "backend process's.",
    "- Aegis: the real CLI (`src/main.ts` with the `compile` task's flags, `--headless`), " +
    "every default feature on (rate limiter, circuit breakers, health checks, metrics, " +
    "security headers); `logging.level: warn`, so **no access logs**; " +
    "`rate_limit.exempt: [127.0.0.0/8]` because wrk is a single client address (the limiter " +
    "phase still runs for every request).",
    ...[...notes].map((n) => `- ${n}`),
    "- In parentheses: ratio to direct. added = target − direct.",
    "",
    ...SCENARIOS.filter((s) => opts.scenarios.includes(s.id)).map((s) =>
      `${s.id}. ${s.title}${s.idle ? ` (${idleCount} idle)` : ""}`
    ),
    "",
    renderTable(runs, idleCount),
    "",
    renderChecks(runs, idleCount),
    "",
  ].join("\n");
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
