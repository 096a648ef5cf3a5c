/**
 * Fleet-wide rate limits: each Aegis instance keeps admitting from its own
 * buckets (the request path never waits on the network) and, every sync
 * interval, reconciles with a store every instance shares.
 *
 * **The scheme.** The store holds one token bucket per client for the whole
 * fleet, with the same rate and burst as the local ones, allowed to go
 * negative. Each sync sends, in one round trip, how many requests this
 * instance admitted per client since the last one; the store debits them
 * and answers what each fleet bucket holds now. A client's local bucket is
 * then lowered to that (never raised): tokens other instances spent are
 * taken back here, and a fleet bucket in debt keeps every instance's bucket
 * in debt until it has refilled. Only clients admitted in the interval are
 * sent, so a sync costs one pipelined call whatever the number of clients.
 *
 * **The overshoot.** With N instances, rate r, burst b, sync interval T and
 * round trip L, the fleet admits one client at most
 * `b + r·t + (N−1)·b + N·r·(T+L)` over any t seconds: each instance can
 * spend a full bucket before its first sync sees the others (the `(N−1)·b`,
 * again after the client has been idle long enough to refill), and each
 * admits up to one interval's refill before the debits of the others reach
 * it. Because every admission is debited, the overshoot is repaid rather
 * than accumulated: a sustained flood gets r per second across the fleet.
 * Two instances at r = 50/s, b = 10, T = 100 ms: at most 10 + 50·t + 10 +
 * 10 requests.
 *
 * **The adaptive rate.** Each instance's adaptive loop moves its own rate;
 * a sync refills the fleet bucket at the rate of the instance sending it,
 * so instances with different rates pull the shared rate between them.
 *
 * **Failing open.** When the store fails or does not answer within
 * {@linkcode STORE_TIMEOUT_MS}, the instance keeps its local limits alone
 * (the fleet may then admit up to N·r), reports the outage once, drops the
 * counts of the failed sync rather than charging them later, and keeps
 * trying every interval; the first sync that succeeds reports the return.
 * A sync still running when the next is due is skipped, never stacked.
 *
 * @module
 */

import type { Clock, Timer } from "../clock/mod.ts";
import type { RateLimiter } from "./limiter.ts";

/** How long one sync may take before the store counts as unavailable. */
export const STORE_TIMEOUT_MS = 1000;

/** The refill every fleet bucket of a sync uses. */
export interface SharedRefill {
  /** Tokens per second. */
  readonly rate: number;
  /** The most tokens a bucket holds. */
  readonly burst: number;
}

/** Where a fleet's buckets live: Redis (`redis_store.ts`), or a fake in tests. */
export interface SharedStore extends AsyncDisposable {
  /** True until the first connection attempt has ended: failures then are not outages yet. */
  readonly connecting: boolean;
  /**
   * Debits each client's admissions from its fleet bucket (refilled at
   * `refill` first, a new one starting full) and resolves with the tokens
   * each holds after, in the order given; negative is debt.
   */
  spend(
    admitted: ReadonlyArray<readonly [string, number]>,
    refill: SharedRefill,
  ): Promise<number[]>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
  /** Drops the connection and opens a new one: called after a call that never answered. */
  reset(): void;
}

/** Whether the shared limits are in force. */
export type SharedStatus = "connecting" | "up" | "down";

/** A change of {@linkcode SharedStatus}, for the event log and the log. */
export interface SharedStatusChange {
  readonly from: SharedStatus;
  readonly to: "up" | "down";
  /** Why the store is unavailable (`to: "down"`). */
  readonly reason?: string;
}

/** What the limiter offers a sync: `RateLimiter` built with `countAdmissions`. */
export type SyncedLimiter = Pick<RateLimiter, "takeAdmissions" | "debit" | "rate" | "burst">;

/** Options for {@linkcode SharedLimitSync}. */
export interface SharedLimitSyncOptions {
  readonly limiter: SyncedLimiter;
  /** The store; the sync closes it when disposed. */
  readonly store: SharedStore;
  readonly clock: Clock;
  /** Time between syncs, ms (`rate_limit.store.sync_interval`). */
  readonly intervalMs: number;
  /** Told when the shared limits go down or come back. */
  readonly onChange?: (change: SharedStatusChange) => void;
}

/**
 * Reconciles one limiter with the fleet's store every interval.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ ...options, countAdmissions: true });
 * const sync = new SharedLimitSync({ limiter, store, clock, intervalMs: 100 });
 * sync.start();
 * await sync[Symbol.asyncDispose](); // stops, closes the store
 * ```
 */
export class SharedLimitSync implements AsyncDisposable {
  readonly #options: SharedLimitSyncOptions;
  #status: SharedStatus = "connecting";
  #failures = 0;
  #inFlight: Promise<void> | undefined;
  #timer: Timer | undefined;
  /** When the sync under way counts as failed. */
  #deadline: Timer | undefined;
  #stopped = false;

  constructor(options: SharedLimitSyncOptions) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
      throw new RangeError(`intervalMs must be a finite number > 0, got ${options.intervalMs}`);
    }
    this.#options = options;
  }

  /** Whether the shared limits are in force now. */
  get status(): SharedStatus {
    return this.#status;
  }

  /** Syncs that failed or timed out, since start. */
  get failures(): number {
    return this.#failures;
  }

  /** Syncs every interval until disposed. */
  start(): void {
    if (this.#stopped || this.#timer) return;
    const arm = () => {
      this.#timer = this.#options.clock.setTimer(this.#options.intervalMs, () => {
        if (this.#stopped) return;
        this.tick();
        arm();
      });
    };
    arm();
  }

  /**
   * One sync now: sends what was admitted (or, with nothing to send while
   * the limits are not in force, a ping) and applies the answer. Does
   * nothing while the previous sync runs. Never rejects.
   */
  tick(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    const { limiter, store } = this.#options;
    const admitted = [...limiter.takeAdmissions()];
    if (admitted.length === 0 && this.#status === "up") return Promise.resolve();
    const refill = { rate: limiter.rate, burst: limiter.burst };
    const call = admitted.length > 0 ? store.spend(admitted, refill) : store.ping().then(() => []);
    this.#inFlight = this.#settle(call, admitted).finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #settle(
    call: Promise<number[]>,
    admitted: ReadonlyArray<readonly [string, number]>,
  ): Promise<void> {
    const timeout = new Promise<"timeout">((resolve) => {
      this.#deadline = this.#options.clock.setTimer(STORE_TIMEOUT_MS, () => resolve("timeout"));
    });
    try {
      const answer = await Promise.race([call, timeout]);
      if (answer === "timeout") {
        // The connection may hang for minutes before TCP gives up: start another.
        this.#options.store.reset();
        call.catch(() => {});
        return this.#failed(`no answer within ${STORE_TIMEOUT_MS} ms`);
      }
      if (this.#stopped) return;
      answer.forEach((tokens, i) => this.#options.limiter.debit(admitted[i]![0], tokens));
      this.#change("up");
    } catch (e) {
      this.#failed(e instanceof Error ? e.message : String(e));
    } finally {
      this.#deadline?.cancel();
      this.#deadline = undefined;
    }
  }

  #failed(reason: string): void {
    if (this.#stopped) return;
    // The first connection attempt is still under way: not an outage yet.
    if (this.#status === "connecting" && this.#options.store.connecting) return;
    this.#failures++;
    this.#change("down", reason);
  }

  #change(to: "up" | "down", reason?: string): void {
    if (this.#stopped || this.#status === to) return;
    const from = this.#status;
    this.#status = to;
    this.#options.onChange?.({ from, to, ...(reason === undefined ? {} : { reason }) });
  }

  /** Stops syncing and closes the store; a sync under way is abandoned. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#deadline?.cancel();
    await this.#options.store[Symbol.asyncDispose]();
  }
}
