/**
 * Scenario 11's figures and report: how far each target's resident memory
 * rose while one large body streamed through it, down, then up with a
 * declared length, then up chunked, and the issue's target on it.
 *
 * @module
 */

import { median } from "./_table.ts";
import type { Scenario } from "./_scenarios.ts";

/** One body streamed through a target in one direction. */
export interface Transfer {
  /** Seconds from the request to the last byte. */
  readonly seconds: number;
  /** Peak RSS during the transfer minus RSS just before it, KiB (summed over the processes). */
  readonly rssRaisedKiB: number;
  /** Why the transfer did not complete, if it did not. */
  readonly error?: string;
}

/**
 * The transfers of scenario 11, in run order: `down` is `GET
 * /stream?bytes=N` (the backend's body to the client), `up` a POST with
 * `Content-Length: N` and `chunked` one with `Transfer-Encoding: chunked`
 * (the client's body to the backend's sink). Uploads are measured both ways
 * because the two framings take different paths through a proxy.
 */
export const DIRECTIONS = ["down", "up", "chunked"] as const;

/** One of {@linkcode DIRECTIONS}. */
export type Direction = typeof DIRECTIONS[number];

/** One round of scenario 11 for one target. */
export type StreamSample = Readonly<Record<Direction, Transfer>>;

/** Every round of scenario 11, by target name, in run order. */
export interface StreamRuns {
  readonly scenario: Scenario;
  /** The body's size each way, MiB. */
  readonly mib: number;
  readonly samples: Map<string, StreamSample[]>;
}

/** What the table shows for one direction of one target. */
export interface StreamSummary {
  /** The highest rise over rounds, KiB: the target bounds the worst case. */
  readonly raisedKiB: number;
  /** Median over rounds, MiB/s. */
  readonly mibPerSecond: number;
  /** Rounds whose transfer failed. */
  readonly errors: number;
}

/** Worst rise, median rate and failures of one direction across rounds. */
export function summarizeStream(
  samples: readonly StreamSample[],
  direction: Direction,
  mib: number,
): StreamSummary {
  const transfers = samples.map((s) => s[direction]);
  const ok = transfers.filter((t) => !t.error);
  return {
    raisedKiB: Math.max(...transfers.map((t) => t.rssRaisedKiB)),
    mibPerSecond: ok.length ? median(ok.map((t) => mib / t.seconds)) : 0,
    errors: transfers.length - ok.length,
  };
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
/** A signed rise in MiB; a fall too small to show is `+0.0`, not `−0.0`. */
export const raised = (kib: number) =>
  `${kib <= -52 ? "−" : "+"}${(Math.abs(kib) / 1024).toFixed(1)} MiB`;

/** Column titles of each direction. */
const LABELS: Record<Direction, string> = { down: "down", up: "up", chunked: "up chunked" };

/** One markdown table: a row per target, every direction side by side. */
export function renderStreamTable({ scenario, mib, samples }: StreamRuns): string {
  const rows = [
    `| # | scenario | target | ${
      DIRECTIONS.map((d) => `${LABELS[d]}: RSS raised | ${LABELS[d]}: MiB/s`).join(" | ")
    } | errors |`,
    `|--:|---|---|${DIRECTIONS.map(() => "--:|--:|").join("")}--:|`,
  ];
  for (const [target, list] of samples) {
    if (!list.length) continue;
    const all = DIRECTIONS.map((d) => summarizeStream(list, d, mib));
    rows.push(
      `| ${scenario.id} | ${scenario.short} ${int.format(mib)} MiB | ${target} | ` +
        all.map((x) => `${raised(x.raisedKiB)} | ${int.format(x.mibPerSecond)}`).join(" | ") +
        ` | ${all.reduce((n, x) => n + x.errors, 0)} |`,
    );
  }
  return rows.join("\n");
}

/** The issue's limit: 512 MiB each way raises RSS by at most 32 MiB. */
export const STREAM_TARGET = { mib: 512, raisedKiB: 32 * 1024 } as const;

/**
 * The rise of `target`'s RSS in every direction (`down +1.2 MiB, up
 * +0.8 MiB, up chunked +0.9 MiB`) and whether all are within the limit:
 * undefined (no verdict) when the target did not run or the body was
 * smaller than the issue's, false when a transfer failed.
 */
export function streamVerdict(
  runs: StreamRuns | undefined,
  target: string,
): { ok?: boolean; text: string } {
  const list = runs?.samples.get(target);
  if (!runs || !list?.length) return { text: "n/a" };
  const all = DIRECTIONS.map((d) => summarizeStream(list, d, runs.mib));
  const failed = all.reduce((n, x) => n + x.errors, 0);
  const text = DIRECTIONS.map((d, i) => `${LABELS[d]} ${raised(all[i]!.raisedKiB)}`).join(", ") +
    (failed ? ` (${failed} transfer(s) failed)` : "");
  if (runs.mib < STREAM_TARGET.mib) return { text };
  const within = all.every((x) => x.raisedKiB <= STREAM_TARGET.raisedKiB);
  return { ok: failed === 0 && within, text };
}
