/**
 * Rebuilds the snapshot on a timer, so every reader within a tick shares
 * one consistent view and the cost of building it (sorting latency
 * windows) is paid once per tick, not once per reader.
 *
 * @module
 */

import type { Clock, Timer } from "../clock/mod.ts";
import type { SnapshotHistory } from "./history.ts";
import { buildSnapshot, type Snapshot, type SnapshotSources } from "./snapshot.ts";

/** Keeps the latest snapshot. */
export class Snapshotter implements Disposable {
  readonly #sources: SnapshotSources;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #history: SnapshotHistory | undefined;
  #current: Snapshot;
  #timer: Timer | undefined;
  #stopped = false;

  /** Every snapshot built is offered to `history`, which keeps about one a second. */
  constructor(sources: SnapshotSources, intervalMs: number, history?: SnapshotHistory) {
    this.#sources = sources;
    this.#clock = sources.clock;
    this.#intervalMs = intervalMs;
    this.#history = history;
    this.#current = this.#build();
  }

  #build(): Snapshot {
    const snapshot = buildSnapshot(this.#sources);
    this.#history?.record(snapshot);
    return snapshot;
  }

  /** The snapshot of the last tick. */
  get current(): Snapshot {
    return this.#current;
  }

  /** Builds a fresh snapshot now and keeps it. */
  tick(): Snapshot {
    this.#current = this.#build();
    return this.#current;
  }

  /** Ticks every interval until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (signal.aborted) return;
    const run = () => {
      if (this.#stopped) return;
      this.tick();
      this.#timer = this.#clock.setTimer(this.#intervalMs, run);
    };
    signal.addEventListener("abort", () => this[Symbol.dispose](), { once: true });
    this.#timer = this.#clock.setTimer(this.#intervalMs, run);
  }

  /** Stops ticking. */
  [Symbol.dispose](): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
