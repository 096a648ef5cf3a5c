/**
 * Turns the benchmark's runs into its report: medians per scenario and
 * target, ratios to the direct baseline, one markdown table, and the
 * issue's performance targets as PASS / FAIL / n/a.
 *
 * @module
 */

import type { Scenario } from "./_scenarios.ts";
import type { WrkResult } from "./_wrk.ts";

/** One measured run of one target. */
export interface Sample extends WrkResult {
  /** Peak RSS of the target's process(es) during the run, KiB. */
  readonly rssKiB: number;
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
  };
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const ms = (v: number) => `${v < 10 ? v.toFixed(3) : v.toFixed(1)} ms`;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const ratio = (v: number, base: number | undefined) =>
  base ? ` (${(v / base).toFixed(v / base < 10 ? 2 : 1)}×)` : "";
const signed = (v: number) => `${v < 0 ? "−" : "+"}${Math.abs(v).toFixed(3)}`;

/** One markdown table: a row per scenario and target. */
export function renderTable(runs: readonly ScenarioRuns[], idle: number): string {
  const rows = [
    "| # | scenario | target | req/s | p50 | p99 | added p50 / p99 | errors | peak RSS |",
    "|--:|---|---|--:|--:|--:|--:|--:|--:|",
  ];
  for (const { scenario, samples } of runs) {
    const direct = samples.get("direct");
    const base = direct?.length ? summarize(direct) : undefined;
    const label = scenario.idle ? scenario.short.replace("idle", `${int.format(idle)} idle`) : (
      scenario.short
    );
    for (const [target, list] of samples) {
      if (!list.length) continue;
      const s = summarize(list);
      const b = target === "direct" ? undefined : base;
      const added = b ? `${signed(s.p50 - b.p50)} / ${signed(s.p99 - b.p99)} ms` : "—";
      rows.push(
        `| ${scenario.id} | ${label} | ${target} | ${int.format(s.rps)}${ratio(s.rps, b?.rps)} | ` +
          `${ms(s.p50)}${ratio(s.p50, b?.p50)} | ${ms(s.p99)}${ratio(s.p99, b?.p99)} | ` +
          `${added} | ${int.format(s.errors)} | ${mib(s.rssKiB)}${ratio(s.rssKiB, b?.rssKiB)} |`,
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

/** 150 MB, in KiB (the issue's limit, read as 10^6 bytes). */
const RSS_LIMIT_KIB = 150e6 / 1024;

/**
 * The issue's targets, each PASS / FAIL, or n/a when the h1 transport or a
 * needed scenario did not run. The fetch transport's figure, and the deno
 * floor's when it ran, are shown beside each h1 target for comparison.
 */
export function renderChecks(runs: readonly ScenarioRuns[], idle: number): string {
  const lines = ["Targets (from the issue; measured on the h1 transport):", ""];
  const line = (v: Verdict, what: string, h1: string, fetch: string, floor?: string) =>
    lines.push(
      `- **${v}** ${what}: h1 ${h1}; fetch ${fetch}` +
        (floor && floor !== "n/a" ? `; deno floor ${floor}` : ""),
    );
  const pct = (a?: Summary, b?: Summary) =>
    a && b ? `${((a.rps / b.rps) * 100).toFixed(0)}%` : "n/a";

  const h1 = find(runs, 1, "aegis h1");
  const fetch = find(runs, 1, "aegis fetch");
  const direct = find(runs, 1, "direct");
  const floor = find(runs, 1, "deno floor");
  line(
    verdict(h1 && fetch ? h1.rps >= 2 * fetch.rps : undefined),
    "scenario 1, h1 req/s ≥ 2× fetch req/s",
    h1 && fetch ? `${(h1.rps / fetch.rps).toFixed(2)}× fetch` : "n/a",
    fetch ? `${int.format(fetch.rps)} req/s` : "n/a",
  );
  line(
    verdict(h1 && direct ? h1.rps >= 0.35 * direct.rps : undefined),
    "scenario 1, h1 req/s ≥ 35% of direct",
    pct(h1, direct),
    pct(fetch, direct),
    pct(floor, direct),
  );

  const added = (t: string) => {
    const s = find(runs, 5, t);
    const d = find(runs, 5, "direct");
    return s && d ? s.p99 - d.p99 : undefined;
  };
  const h1Added = added("aegis h1");
  const fetchAdded = added("aegis fetch");
  const show = (v: number | undefined) => (v === undefined ? "n/a" : `${signed(v)} ms`);
  line(
    verdict(h1Added === undefined ? undefined : h1Added <= 0.5),
    "scenario 5, p99 latency added over direct at one connection ≤ 0.5 ms",
    show(h1Added),
    show(fetchAdded),
    show(added("deno floor")),
  );

  const w2 = find(runs, 1, "aegis h1-w2");
  lines.push(
    `- **${
      verdict(h1 && w2 ? w2.rps >= 1.3 * h1.rps : undefined)
    }** scenario 1, 2 workers ≥ 1.3× 1 worker req/s: ` +
      (h1 && w2
        ? `${(w2.rps / h1.rps).toFixed(2)}× (h1-w2 ${int.format(w2.rps)}, h1 ${
          int.format(h1.rps)
        } req/s)`
        : "n/a"),
  );

  const rss = (t: string) => find(runs, 7, t)?.rssKiB;
  const h1Rss = rss("aegis h1");
  const fetchRss = rss("aegis fetch");
  const showRss = (v: number | undefined) =>
    v === undefined ? "n/a" : `${(v * 1024 / 1e6).toFixed(1)} MB`;
  line(
    verdict(h1Rss === undefined || idle < 5000 ? undefined : h1Rss <= RSS_LIMIT_KIB),
    `scenario 7, peak RSS ≤ 150 MB with 5,000 idle connections${
      idle < 5000 ? ` (only ${int.format(idle)} held: n/a)` : ""
    }`,
    showRss(h1Rss),
    showRss(fetchRss),
    showRss(rss("deno floor")),
  );
  return lines.join("\n");
}
