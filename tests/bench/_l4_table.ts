/**
 * The L4 part of the benchmark's report: medians per scenario and target,
 * ratios to the direct baseline and to the peer the issue names (HAProxy
 * for TCP, nginx for UDP), one markdown table, and the L4 targets
 * as PASS / FAIL / n/a.
 *
 * @module
 */

import type { L4Load, L4Scenario } from "./_l4_scenarios.ts";
import { median } from "./_table.ts";

/** One measured run of one target in an L4 scenario. */
export interface L4Sample {
  /**
   * Per second, in the scenario's unit: payload bits received (iperf3 TCP),
   * connections completed (wrk, one request each), or datagrams delivered
   * (iperf3 UDP).
   */
  readonly rate: number;
  /** wrk's socket errors and responses ≥ 400; 0 for iperf3, whose runs fail instead. */
  readonly errors: number;
  /** UDP: datagrams sent but not delivered, percent. */
  readonly lossPct?: number;
  /** Peak RSS of the target's process(es) during the run, KiB. */
  readonly rssKiB: number;
}

/** Every run of one L4 scenario. */
export interface L4Runs {
  readonly scenario: L4Scenario;
  /** By target name, in run order. */
  readonly samples: Map<string, L4Sample[]>;
  /** Targets that apply to the scenario but did not run, and why. */
  readonly unavailable: Map<string, string>;
  /** Why the whole scenario did not run (iperf3 not installed). */
  readonly skipped?: string;
}

/** What the table shows for one scenario and target. */
export interface L4Summary {
  /** Medians across rounds. */
  readonly rate: number;
  readonly lossPct?: number;
  /** Sum across rounds. */
  readonly errors: number;
  /** Highest peak across rounds, KiB. */
  readonly rssKiB: number;
}

/** Medians, error total and peak memory of one target's runs. */
export function summarizeL4(samples: readonly L4Sample[]): L4Summary {
  const losses = samples.flatMap((s) => (s.lossPct === undefined ? [] : [s.lossPct]));
  return {
    rate: median(samples.map((s) => s.rate)),
    lossPct: losses.length ? median(losses) : undefined,
    errors: samples.reduce((n, s) => n + s.errors, 0),
    rssKiB: Math.max(...samples.map((s) => s.rssKiB)),
  };
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** A rate in the unit of `load`'s scenario. */
export function formatRate(load: L4Load, perSecond: number): string {
  if (load === "iperf3-tcp") return `${(perSecond / 1e9).toFixed(2)} Gbit/s`;
  return `${int.format(perSecond)} ${load === "wrk-close" ? "conn/s" : "datagrams/s"}`;
}

/**
 * `a / b` as the report shows it, to two decimals; verdicts compare this
 * shown value, so a line never reads "1.00×" next to a FAIL of "≥ 1.0×".
 */
export function shownRatio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

const PEER_LABEL = { haproxy: "HAProxy", nginx: "nginx" } as const;

/** One markdown table: a row per L4 scenario and target, unavailable ones included. */
export function renderL4Table(runs: readonly L4Runs[]): string {
  const rows = [
    "| # | scenario | target | rate | vs direct | vs peer | errors / loss | peak RSS |",
    "|--:|---|---|--:|--:|--:|--:|--:|",
  ];
  for (const { scenario, samples, unavailable, skipped } of runs) {
    const head = `| ${scenario.id} | ${scenario.short} |`;
    if (skipped) {
      rows.push(`${head} — | not run: ${skipped} | | | | |`);
      continue;
    }
    const of = (t: string) => {
      const list = samples.get(t);
      return list?.length ? summarizeL4(list) : undefined;
    };
    const direct = of("direct");
    const peer = scenario.goal.peer;
    const peerRate = of(peer)?.rate;
    for (const [target, list] of samples) {
      if (!list.length) continue;
      const s = summarizeL4(list);
      const vsDirect = target !== "direct" && direct
        ? `${shownRatio(s.rate, direct.rate).toFixed(2)}×`
        : "—";
      const vsPeer = target !== "direct" && target !== peer && peerRate
        ? `${shownRatio(s.rate, peerRate).toFixed(2)}× ${peer}`
        : "—";
      const loss = s.lossPct !== undefined
        ? `${s.lossPct.toFixed(1)}% lost`
        : scenario.load === "wrk-close"
        ? int.format(s.errors)
        : "—";
      rows.push(
        `${head} ${target} | ${formatRate(scenario.load, s.rate)} | ${vsDirect} | ${vsPeer} | ` +
          `${loss} | ${(s.rssKiB / 1024).toFixed(1)} MiB |`,
      );
    }
    for (const [target, why] of unavailable) {
      rows.push(`${head} ${target} | not available: ${why.replaceAll("|", "\\|")} | | | | |`);
    }
  }
  return rows.join("\n");
}

/**
 * The L4 targets, each PASS / FAIL, or n/a (with the reason) when
 * Aegis's L4 target, the peer, or the scenario did not run. Every other
 * target's rate is shown beside it.
 */
export function renderL4Checks(runs: readonly L4Runs[]): string {
  const lines = ["L4 targets (from the issue; Aegis's `tcp` and `udp` listeners):", ""];
  for (const { scenario, samples, unavailable, skipped } of runs) {
    const { peer, ratio } = scenario.goal;
    const what = `scenario ${scenario.id}, ${scenario.short} rate ≥ ${ratio.toFixed(2)}× ${
      PEER_LABEL[peer]
    }`;
    if (skipped) {
      lines.push(`- **n/a** ${what}: not run (${skipped})`);
      continue;
    }
    const rate = (t: string) => {
      const list = samples.get(t);
      return list?.length ? summarizeL4(list).rate : undefined;
    };
    const aegis = rate("aegis l4");
    const base = rate(peer);
    const show = (t: string) => {
      const r = rate(t);
      if (r !== undefined) return `${t} ${formatRate(scenario.load, r)}`;
      const why = unavailable.get(t);
      return why ? `${t} not available: ${why}` : `${t} not run`;
    };
    let verdict = "n/a";
    let head = show("aegis l4");
    if (aegis !== undefined && base !== undefined) {
      const r = shownRatio(aegis, base);
      verdict = r >= ratio ? "PASS" : "FAIL";
      head += ` = ${r.toFixed(2)}× ${peer}`;
    }
    const others = [peer, ...samples.keys(), ...unavailable.keys()]
      .filter((t, i, all) => t !== "aegis l4" && all.indexOf(t) === i)
      .map(show);
    lines.push(`- **${verdict}** ${what}: ${head}; ${others.join("; ")}`);
  }
  return lines.join("\n");
}
