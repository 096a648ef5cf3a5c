/**
 * A short history of the proxy's headline figures (requests per second,
 * error share, P95, 429s per second, open connections), one point per
 * snapshot tick over the last 15 minutes: what the web dashboard's charts
 * and the terminal dashboard's sparklines draw.
 *
 * It keeps figures, never snapshots: a point is a few numbers, so 15
 * minutes at one point a second stays small. Snapshots can be built more
 * often than the tick (every admin request builds one); a point closer than
 * half a step to the previous one is skipped, so the history's resolution
 * stays about one step whoever asks for snapshots.
 *
 * @module
 */

import { errorShare, intervalSeconds, perSecond } from "./rates.ts";
import type { Snapshot } from "./snapshot.ts";

/** The proxy's headline figures at one moment; `null` where there is no figure yet. */
export interface HistoryPoint {
  /** When (epoch ms, the snapshot's time). */
  readonly time: number;
  /** Client requests per second since the previous point. */
  readonly requestsPerSecond: number | null;
  /** Share of responses that were `5xx` since the previous point, 0–1. */
  readonly errorShare: number | null;
  /** P95 latency (ms) over the healthy backends' live samples. */
  readonly p95: number | null;
  /** 429 answers per second since the previous point. */
  readonly rateLimitedPerSecond: number | null;
  /** Client connections open. */
  readonly connections: number;
}

/** How far back the history reaches by default (ms): 15 minutes. */
export const HISTORY_WINDOW_MS = 15 * 60_000;

/** The usual distance between points (ms): the snapshot tick. */
export const HISTORY_STEP_MS = 1000;

/** Options for {@linkcode SnapshotHistory}. */
export interface HistoryOptions {
  /** How far back points are kept (ms). */
  readonly windowMs?: number;
  /** The distance between points (ms); closer snapshots are skipped. */
  readonly stepMs?: number;
}

/** The last {@linkcode HISTORY_WINDOW_MS} of figures, oldest first. */
export class SnapshotHistory {
  readonly #windowMs: number;
  readonly #minGapMs: number;
  #points: HistoryPoint[] = [];
  #last: Snapshot | undefined;

  constructor(options: HistoryOptions = {}) {
    this.#windowMs = options.windowMs ?? HISTORY_WINDOW_MS;
    this.#minGapMs = (options.stepMs ?? HISTORY_STEP_MS) / 2;
  }

  /** Adds a point for `snapshot` unless it is too close to the last one; returns the point added. */
  record(snapshot: Snapshot): HistoryPoint | undefined {
    let previous = this.#last;
    if (previous !== undefined && snapshot.time < previous.time) {
      // The wall clock went back: what came before no longer lines up.
      this.#points = [];
      previous = undefined;
    }
    if (previous !== undefined && snapshot.time - previous.time < this.#minGapMs) return undefined;
    const dt = intervalSeconds(snapshot, previous);
    const point: HistoryPoint = Object.freeze({
      time: snapshot.time,
      requestsPerSecond: perSecond(snapshot.global.requests, previous?.global.requests, dt) ??
        null,
      errorShare: errorShare(snapshot, previous) ?? null,
      p95: snapshot.healthyP95,
      rateLimitedPerSecond:
        perSecond(snapshot.global.rateLimited, previous?.global.rateLimited, dt) ?? null,
      connections: snapshot.global.activeConnections,
    });
    this.#last = snapshot;
    this.#points.push(point);
    const oldest = snapshot.time - this.#windowMs;
    let drop = 0;
    while (drop < this.#points.length && this.#points[drop]!.time < oldest) drop++;
    if (drop > 0) this.#points.splice(0, drop);
    return point;
  }

  /** Every point kept, oldest first (a copy). */
  points(): readonly HistoryPoint[] {
    return [...this.#points];
  }
}
