/**
 * Finished spans on their way to the collector: a bounded queue sent in
 * batches, one batch at a time, each send cut off after a timeout. The
 * request path only ever pushes; it never waits on the collector. A
 * collector that is down, slow or failing costs spans, not requests: what
 * cannot be queued or sent is dropped, counted
 * (`proxy_tracing_spans_dropped_total`), and reported in a warning at most
 * once per {@linkcode DROP_WARNING_INTERVAL_MS}.
 *
 * Generic over what it carries and how it sends, and driven by an
 * injected clock, so its rules are tested without a collector or a sleep.
 *
 * @module
 */

import type { Clock, Timer } from "../clock/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Spans exported and dropped since start, over every exporter a reload built. */
export class TracingCounters {
  /** Spans the collector accepted. */
  exported = 0;
  /** Spans lost: queue full, export failed or timed out, or still queued at shutdown. */
  dropped = 0;
}

/** Sends one batch; rejects when the collector did not take it. */
export type SendBatch<T> = (batch: readonly T[], signal: AbortSignal) => Promise<void>;

/** Settings of an {@linkcode ExportQueue}. */
export interface ExportQueueOptions<T> {
  readonly send: SendBatch<T>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly counters: TracingCounters;
  /** Most items waiting; more are dropped. */
  readonly maxQueue?: number;
  /** Most items in one send. */
  readonly maxBatch?: number;
  /** Longest wait before a batch that is not full is sent. */
  readonly delayMs?: number;
  /** Longest a send may take before it is aborted and its batch dropped. */
  readonly timeoutMs?: number;
}

/** How often, at most, dropped spans are reported in a warning. */
export const DROP_WARNING_INTERVAL_MS = 10_000;

/** A bounded queue of spans, sent in batches. */
export class ExportQueue<T> {
  readonly #o: Required<ExportQueueOptions<T>>;
  #queue: T[] = [];
  #timer: Timer | undefined;
  #sending: Promise<void> | undefined;
  /** Aborts every send in progress: the queue closed and its wait ran out. */
  readonly #abort = new AbortController();
  #closed = false;
  /** Dropped since the last warning, and why, last reason first. */
  #unreported = 0;
  #reason = "";
  #warnedAt = -Infinity;

  constructor(options: ExportQueueOptions<T>) {
    this.#o = { maxQueue: 2048, maxBatch: 512, delayMs: 1000, timeoutMs: 10_000, ...options };
  }

  /** Items waiting to be sent. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Queues an item: sent within `delayMs`, or dropped if the queue is full or closed. */
  push(item: T): void {
    if (this.#closed) return this.#drop(1, "tracing stopped");
    if (this.#queue.length >= this.#o.maxQueue) return this.#drop(1, "queue full");
    this.#queue.push(item);
    if (this.#queue.length >= this.#o.maxBatch) this.#sendNext();
    else this.#timer ??= this.#o.clock.setTimer(this.#o.delayMs, this.#onTimer);
  }

  /**
   * Sends everything queued, waiting at most `timeoutMs`. Closing: what is
   * still queued or in flight then is dropped, and so is everything pushed
   * afterwards.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    let expired = false;
    const deadline = this.#o.clock.setTimer(timeoutMs, () => {
      expired = true;
      this.#abort.abort();
    });
    try {
      while (!expired && (this.#queue.length > 0 || this.#sending)) await this.#sendNext();
    } finally {
      deadline.cancel();
    }
    if (this.#queue.length > 0) this.#drop(this.#queue.splice(0).length, "tracing stopped");
    if (this.#unreported > 0) this.#report();
  }

  readonly #onTimer = () => {
    this.#timer = undefined;
    this.#sendNext();
  };

  /** Sends the next batch, unless one is in flight; settles when the send in flight does. */
  #sendNext(): Promise<void> {
    if (this.#sending) return this.#sending;
    if (this.#queue.length === 0) return Promise.resolve();
    this.#timer?.cancel();
    this.#timer = undefined;
    const batch = this.#queue.splice(0, this.#o.maxBatch);
    const abort = new AbortController();
    const onClose = () => abort.abort();
    this.#abort.signal.addEventListener("abort", onClose, { once: true });
    const timeout = this.#o.clock.setTimer(this.#o.timeoutMs, () => abort.abort());
    this.#sending = this.#o.send(batch, abort.signal).then(
      () => {
        this.#o.counters.exported += batch.length;
      },
      (e) => {
        const why = abort.signal.aborted
          ? "export timed out"
          : `export failed: ${e instanceof Error ? e.message : String(e)}`;
        this.#drop(batch.length, why);
      },
    ).finally(() => {
      timeout.cancel();
      this.#abort.signal.removeEventListener("abort", onClose);
      this.#sending = undefined;
      if (this.#closed) return;
      // What queued up meanwhile: a full batch goes now, the rest after the delay.
      if (this.#queue.length >= this.#o.maxBatch) this.#sendNext();
      else if (this.#queue.length > 0) {
        this.#timer ??= this.#o.clock.setTimer(this.#o.delayMs, this.#onTimer);
      }
    });
    return this.#sending;
  }

  #drop(count: number, reason: string): void {
    this.#o.counters.dropped += count;
    this.#unreported += count;
    this.#reason = reason;
    if (this.#o.clock.now() - this.#warnedAt >= DROP_WARNING_INTERVAL_MS) this.#report();
  }

  /** One warning for every span dropped since the last one. */
  #report(): void {
    this.#o.logger.warn("tracing spans dropped", {
      dropped: this.#unreported,
      reason: this.#reason,
    });
    this.#warnedAt = this.#o.clock.now();
    this.#unreported = 0;
  }
}
