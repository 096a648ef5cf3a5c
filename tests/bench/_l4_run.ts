/**
 * Runs one L4 scenario the way `run.ts` runs an HTTP one: a fresh backend
 * and fresh targets, a warm-up, then rounds with the targets interleaved,
 * peak RSS measured during each run. A target that fails to start or to
 * finish a run is reported and left out of the rest of the scenario rather
 * than ending the benchmark: the L4 relays are new, and the other targets'
 * figures still count.
 *
 * @module
 */

import type { Target } from "./_aegis.ts";
import { startBackends } from "./_backends.ts";
import { runIperf, startIperfServer } from "./_iperf.ts";
import type { L4Scenario } from "./_l4_scenarios.ts";
import { formatRate, type L4Runs, type L4Sample } from "./_l4_table.ts";
import { forLoad, type L4Backend, type L4Plan } from "./_l4_targets.ts";
import { waitListening, waitReady } from "./_net.ts";
import type { Options } from "./_scenarios.ts";
import { type RssProbe, startRssProbe } from "./_rss.ts";
import { runWrk } from "./_wrk.ts";

const int = new Intl.NumberFormat("en-US");
const progress = (text: string) => console.error(text);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One line for the report: the error's first line, and when that only
 * introduces a process's output ("aegis l4 exited:"), the output's first line.
 */
function message(e: unknown): string {
  const lines = (e instanceof Error ? e.message : String(e)).split("\n").map((l) => l.trim())
    .filter(Boolean);
  const [first = "failed", second] = lines;
  return first.endsWith(":") && second ? `${first} ${second}` : first;
}

/** What every L4 scenario shares. */
export interface L4Context {
  readonly opts: Options;
  readonly plan: L4Plan;
  /** Findings for the report, deduplicated. */
  readonly notes: Set<string>;
}

/**
 * The backend of `scenario`: an iperf3 server (TCP control and data, and
 * UDP datagrams, on one port), or for new connections per second one port
 * of the HTTP backend, so that wrk can count completed exchanges.
 */
async function startBackend({ load }: L4Scenario): Promise<L4Backend> {
  if (load === "wrk-close") {
    const b = await startBackends(1, 1);
    const port = b.ports[0]!;
    return { port, pid: b.pidOf(port), probe: (p, c) => waitReady(p, c), stop: b.stop };
  }
  const udp = load === "iperf3-udp";
  const server = await startIperfServer();
  return { ...server, probe: (p, c) => waitListening(p, c, { udp }) };
}

/** One measured run of `target`, with its peak RSS. */
async function measure(
  target: Target,
  scenario: L4Scenario,
  seconds: number,
  opts: Options,
): Promise<L4Sample & { rssMode: RssProbe["mode"] }> {
  // Let the previous run's connections and sessions settle first.
  await sleep(300);
  const probe = await startRssProbe(target.pid);
  let sample: Omit<L4Sample, "rssKiB">;
  let rssKiB = 0;
  try {
    if (scenario.load === "wrk-close") {
      const r = await runWrk({
        url: `http://127.0.0.1:${target.port}/`,
        connections: 64,
        seconds,
        headers: ["Connection: close"],
      });
      sample = { rate: r.rps, errors: r.socketErrors + r.badStatus };
    } else if (scenario.load === "iperf3-tcp") {
      const r = await runIperf({ port: target.port, seconds });
      sample = { rate: r.bitsPerSecond, errors: 0 };
    } else {
      const udp = { datagramsPerSecond: opts.udpRate, bytes: opts.udpBytes };
      const r = await runIperf({ port: target.port, seconds, udp });
      sample = {
        rate: r.delivered / r.seconds,
        errors: 0,
        lossPct: r.sent ? Math.max(0, (1 - r.delivered / r.sent) * 100) : 0,
      };
    }
  } finally {
    rssKiB = await probe.stop();
  }
  return { ...sample, rssKiB, rssMode: probe.mode };
}

/** Runs one L4 scenario against every applicable target of `plan`. */
export async function runL4Scenario(
  base: L4Scenario,
  { opts, plan: all, notes }: L4Context,
): Promise<L4Runs> {
  const udp = base.load === "iperf3-udp";
  const scenario = udp
    ? { ...base, short: `${base.short} ${opts.udpBytes} B at ${int.format(opts.udpRate)}/s` }
    : base;
  progress(`\nscenario ${scenario.id}: ${scenario.title}`);
  const plan = forLoad(all, scenario.load);
  const unavailable = new Map(plan.unavailable);
  const samples = new Map<string, L4Sample[]>();
  const backend = await startBackend(scenario);
  const live: Target[] = [];
  const drop = async (t: Target, why: string) => {
    live.splice(live.indexOf(t), 1);
    notes.add(`Scenario ${scenario.id}, ${t.name}: ${why}; left out of the rest of the scenario.`);
    if (!samples.get(t.name)?.length) unavailable.set(t.name, why);
    await t.stop();
  };
  try {
    for (const [name, start] of plan.starters) {
      try {
        live.push(await start(backend));
        samples.set(name, []);
      } catch (e) {
        unavailable.set(name, `did not start: ${message(e)}`);
        notes.add(`Scenario ${scenario.id}, ${name} did not start: ${message(e)}`);
      }
    }
    if (opts.warmup > 0) {
      progress(`  warm-up ${opts.warmup} s per target`);
      for (const t of [...live]) {
        await measure(t, scenario, opts.warmup, opts).catch((e) =>
          drop(t, `warm-up failed: ${message(e)}`)
        );
      }
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const t of [...live]) {
        let s;
        try {
          s = await measure(t, scenario, opts.seconds, opts);
        } catch (e) {
          await drop(t, `round ${round} failed: ${message(e)}`);
          continue;
        }
        samples.get(t.name)!.push(s);
        notes.add(
          s.rssMode === "hwm"
            ? "Peak RSS: VmHWM, reset at the start of each run (exact)."
            : "Peak RSS: VmRSS sampled every 200 ms (VmHWM could not be reset; may miss spikes).",
        );
        progress(
          `  round ${round}/${opts.rounds}  ${t.name.padEnd(11)} ${
            formatRate(scenario.load, s.rate).padStart(18)
          }${s.lossPct === undefined ? "" : `  lost ${s.lossPct.toFixed(1)}%`}${
            scenario.load === "wrk-close" ? `  errors ${s.errors}` : ""
          }  rss ${(s.rssKiB / 1024).toFixed(1)} MiB`,
        );
      }
    }
  } finally {
    await Promise.all(live.map((t) => t.stop()));
    await backend.stop();
  }
  for (const name of [...samples.keys()]) if (!samples.get(name)!.length) samples.delete(name);
  return { scenario, samples, unavailable };
}
