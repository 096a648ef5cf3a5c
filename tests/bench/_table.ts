/**
 * Turns the benchmark's runs into its report: medians per scenario and
 * target, ratios to the direct baseline (and CPU per request to the deno
 * floor's), one markdown table, and the issue's performance targets as
 * PASS / FAIL / n/a.
 *
 * @module
 */

import type { Scenario } from "./_scenarios.ts";
import { STREAM_TARGET, type StreamRuns, streamVerdict } from "./_stream_table.ts";
import type { WrkResult } from "./_wrk.ts";

/** One measured run of one target. */
export interface Sample extends WrkResult {
  /** Peak RSS of the target's process(es) during the run, KiB. */
  readonly rssKiB: number;
  /** User + system CPU time of the target's process(es) during the run, seconds. */
  readonly cpuSeconds: number;
  /** Idle connections held open during the run (scenario 7; 0 elsewhere). */
  readonly idleHeld: number;
}

/** Every run of one scenario, by target name, in run order. */
export interface ScenarioRuns {
  readonly scenario: Scenario;
  readonly samples: Map<string, Sample[]>;
}

/** What the table shows for one scenario and target. */
export interface Summary {
  /** Medians across rounds. */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Sum across rounds of socket errors and responses ≥ 400. */
  readonly errors: number;
  /** Highest peak across rounds, KiB. */
  readonly rssKiB: number;
  /** Median across rounds of CPU time per completed request, µs. */
  readonly cpuUs: number;
  /** Fewest idle connections held in a round. */
  readonly idleHeld: number;
}

/** The median of `values` (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Medians, error total and peak memory of one target's runs. */
export function summarize(samples: readonly Sample[]): Summary {
  return {
    rps: median(samples.map((s) => s.rps)),
    p50: median(samples.map((s) => s.p50)),
    p99: median(samples.map((s) => s.p99)),
    errors: samples.reduce((n, s) => n + s.socketErrors + s.badStatus, 0),
    rssKiB: Math.max(...samples.map((s) => s.rssKiB)),
    cpuUs: median(samples.map((s) => s.requests ? (s.cpuSeconds / s.requests) * 1e6 : 0)),
    idleHeld: Math.min(...samples.map((s) => s.idleHeld)),
  };
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const ms = (v: number) => `${v < 10 ? v.toFixed(3) : v.toFixed(1)} ms`;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const ratio = (v: number, base: number | undefined) =>
  base ? ` (${(v / base).toFixed(v / base < 10 ? 2 : 1)}×)` : "";
const signed = (v: number) => `${v < 0 ? "−" : "+"}${Math.abs(v).toFixed(3)}`;
const us = (v: number) => `${v < 10 ? v.toFixed(1) : int.format(v)} µs`;
const signedUs = (v: number) => `${v < 0 ? "−" : "+"}${us(Math.abs(v))}`;

/** One markdown table: a row per scenario and target. */
export function renderTable(runs: readonly ScenarioRuns[], idle: number): string {
  const rows = [
    "| # | scenario | target | req/s | p50 | p99 | added p50 / p99 | CPU/req | errors | peak RSS |",
    "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const { scenario, samples } of runs) {
    const direct = samples.get("direct");
    const base = direct?.length ? summarize(direct) : undefined;
    const floorRuns = samples.get(FLOOR);
    const floor = floorRuns?.length ? summarize(floorRuns) : undefined;
    const label = scenario.idle ? scenario.short.replace("idle", `${int.format(idle)} idle`) : (
      scenario.short
    );
    for (const [target, list] of samples) {
      if (!list.length) continue;
      const s = summarize(list);
      const b = target === "direct" ? undefined : base;
      const added = b ? `${signed(s.p50 - b.p50)} / ${signed(s.p99 - b.p99)} ms` : "—";
      // A proxy's CPU is compared with the floor's, the other proxy; direct's is the backend's.
      const cpuBase = target === "direct" || target === FLOOR ? undefined : floor?.cpuUs;
      const cpu = `${us(s.cpuUs)}${ratio(s.cpuUs, cpuBase).replace(")", " floor)")}`;
      rows.push(
        `| ${scenario.id} | ${label} | ${target} | ${int.format(s.rps)}${ratio(s.rps, b?.rps)} | ` +
          `${ms(s.p50)}${ratio(s.p50, b?.p50)} | ${ms(s.p99)}${ratio(s.p99, b?.p99)} | ` +
          `${added} | ${cpu} | ${int.format(s.errors)} | ` +
          `${mib(s.rssKiB)}${ratio(s.rssKiB, b?.rssKiB)} |`,
      );
    }
  }
  return rows.join("\n");
}

function find(runs: readonly ScenarioRuns[], id: number, target: string): Summary | undefined {
  const list = runs.find((r) => r.scenario.id === id)?.samples.get(target);
  return list?.length ? summarize(list) : undefined;
}

type Verdict = "PASS" | "FAIL" | "n/a";
const verdict = (ok: boolean | undefined): Verdict =>
  ok === undefined ? "n/a" : ok ? "PASS" : "FAIL";

const FLOOR = "deno floor";
const H1 = "aegis h1";
const FETCH = "aegis fetch";

/** 150 MB, in KiB (the issue's limit, read as 10^6 bytes). */
const RSS_LIMIT_KIB = 150e6 / 1024;

/** Figures of one scenario-1 quantity, Aegis's against the floor's. */
interface AgainstFloor {
  readonly what: string;
  readonly pick: (s: Summary) => number;
  readonly show: (v: number) => string;
  /** The issue's bound on Aegis ÷ floor. */
  readonly limit: number;
  /** `≥` for throughput, `≤` for costs. */
  readonly atLeast: boolean;
}

/**
 * The issue's targets, each PASS / FAIL, or n/a when the h1 transport or a
 * needed scenario did not run. Every target is judged on `aegis h1`; the
 * fetch transport's figure is shown beside it for comparison. The cost of
 * access logs is reported, not judged.
 */
export function renderChecks(
  runs: readonly ScenarioRuns[],
  idle: number,
  stream?: StreamRuns,
): string {
  const lines = ["Targets (from the issue; judged on the h1 transport, defaults on):", ""];
  const line = (v: Verdict, what: string, h1: string, fetch?: string) =>
    lines.push(
      `- **${v}** ${what}: h1 ${h1}` + (fetch && fetch !== "n/a" ? `; fetch ${fetch}` : ""),
    );

  const floor1 = find(runs, 1, FLOOR);
  for (
    const c of [
      {
        what: "requests per second",
        pick: (s) => s.rps,
        show: (v) => `${int.format(v)} req/s`,
        limit: 0.75,
        atLeast: true,
      },
      { what: "CPU per request", pick: (s) => s.cpuUs, show: us, limit: 1.35, atLeast: false },
      { what: "peak RSS", pick: (s) => s.rssKiB, show: mib, limit: 1.2, atLeast: false },
    ] satisfies AgainstFloor[]
  ) {
    const of = (t: string) => {
      const s = find(runs, 1, t);
      if (!s || !floor1) return undefined;
      const r = c.pick(s) / c.pick(floor1);
      return { r, text: `${r.toFixed(2)}× (${c.show(c.pick(s))} vs ${c.show(c.pick(floor1))})` };
    };
    const h1 = of(H1);
    line(
      verdict(h1 && (c.atLeast ? h1.r >= c.limit : h1.r <= c.limit)),
      `scenario 1, ${c.what} ${c.atLeast ? "≥" : "≤"} ${c.limit}× the deno floor's`,
      h1?.text ?? "n/a",
      of(FETCH)?.text,
    );
  }

  const added = (t: string) => {
    const s = find(runs, 5, t);
    const d = find(runs, 5, "direct");
    return s && d ? s.p99 - d.p99 : undefined;
  };
  const h1Added = added(H1);
  const show = (v: number | undefined) => (v === undefined ? "n/a" : `${signed(v)} ms`);
  line(
    verdict(h1Added === undefined ? undefined : h1Added <= 0.5),
    "scenario 5, p99 latency added over direct at one connection ≤ 0.5 ms",
    show(h1Added),
    show(added(FETCH)),
  );

  const h1Scenario1 = find(runs, 1, H1);
  const w2 = find(runs, 1, "aegis h1-w2");
  lines.push(
    `- **${
      verdict(h1Scenario1 && w2 ? w2.rps >= 1.3 * h1Scenario1.rps : undefined)
    }** scenario 1, 2 workers ≥ 1.3× 1 worker req/s (issue 16): ` +
      (h1Scenario1 && w2
        ? `${(w2.rps / h1Scenario1.rps).toFixed(2)}× (h1-w2 ${int.format(w2.rps)}, h1 ${
          int.format(h1Scenario1.rps)
        } req/s)`
        : "n/a"),
  );

  // Idle connections the target refused fail it: holding them is the point.
  const idleRss = (t: string) => {
    const s = find(runs, 7, t);
    if (!s) return { text: "n/a" };
    const held = s.idleHeld < idle ? `, held only ${int.format(s.idleHeld)} idle` : "";
    return {
      ok: !held && s.rssKiB <= RSS_LIMIT_KIB,
      text: `${(s.rssKiB * 1024 / 1e6).toFixed(1)} MB${held}`,
    };
  };
  const h1Idle = idleRss(H1);
  line(
    verdict(idle < 5000 ? undefined : h1Idle.ok),
    `scenario 7, peak RSS ≤ 150 MB with 5,000 idle connections${
      idle < 5000 ? ` (only ${int.format(idle)} held: n/a)` : ""
    }`,
    h1Idle.text,
    idleRss(FETCH).text,
  );

  const h1Stream = streamVerdict(stream, H1);
  line(
    verdict(h1Stream.ok),
    `scenario 11, ${STREAM_TARGET.mib} MiB streamed each way raises RSS by ≤ ` +
      `${STREAM_TARGET.raisedKiB / 1024} MiB` +
      (stream && stream.mib < STREAM_TARGET.mib ? ` (only ${stream.mib} MiB streamed: n/a)` : ""),
    h1Stream.text,
    streamVerdict(stream, FETCH).text,
  );

  const logged = find(runs, 1, `${H1} log`);
  const h1 = find(runs, 1, H1);
  lines.push(
    "- **info** scenario 1, cost of access logs (`aegis h1 log` against `aegis h1`): " +
      (logged && h1
        ? `${(logged.rps / h1.rps).toFixed(2)}× the req/s (${int.format(logged.rps)} vs ` +
          `${int.format(h1.rps)}), ${signedUs(logged.cpuUs - h1.cpuUs)} CPU/req (${
            us(logged.cpuUs)
          } vs ${us(h1.cpuUs)})`
        : "n/a"),
  );
  return lines.join("\n");
}
