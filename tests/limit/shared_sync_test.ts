import assert from "node:assert/strict";
import {
  RateLimiter,
  SharedLimitSync,
  type SharedRefill,
  type SharedStatusChange,
  type SharedStore,
  STORE_TIMEOUT_MS,
} from "../../src/limit/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

/**
 * The fleet's buckets in memory, with the Redis script's arithmetic, on the
 * manual clock: answers arrive `latencyMs` after the call, computed when
 * the call reaches the "server" (half way).
 */
class FakeStore implements SharedStore {
  readonly buckets = new Map<string, { tokens: number; at: number }>();
  connecting = false;
  /** When set, calls fail with it. */
  failure: string | undefined;
  /** When true, calls never answer. */
  hang = false;
  calls = 0;
  resets = 0;
  closed = false;

  constructor(readonly clock: ManualClock, readonly latencyMs = 0) {}

  spend(admitted: ReadonlyArray<readonly [string, number]>, refill: SharedRefill) {
    return this.#answer(() =>
      admitted.map(([key, n]) => {
        const now = this.clock.now();
        const b = this.buckets.get(key) ?? { tokens: refill.burst, at: now };
        b.tokens = Math.min(refill.burst, b.tokens + ((now - b.at) * refill.rate) / 1000) - n;
        b.at = now;
        this.buckets.set(key, b);
        return b.tokens;
      })
    );
  }

  ping() {
    return this.#answer(() => undefined);
  }

  reset() {
    this.resets++;
  }

  [Symbol.asyncDispose]() {
    this.closed = true;
    return Promise.resolve();
  }

  #answer<T>(compute: () => T): Promise<T> {
    this.calls++;
    if (this.hang) return new Promise(() => {});
    if (this.failure !== undefined) return Promise.reject(new Error(this.failure));
    if (this.latencyMs === 0) return Promise.resolve(compute());
    return new Promise((resolve) => {
      this.clock.setTimer(this.latencyMs / 2, () => {
        const answer = compute();
        this.clock.setTimer(this.latencyMs / 2, () => resolve(answer));
      });
    });
  }
}

/** Lets promise callbacks run (a sync's answer is applied in a few microtask hops). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Advances the clock 1 ms at a time, letting answers land, calling `each` every ms. */
async function run(clock: ManualClock, ms: number, each: () => void = () => {}): Promise<void> {
  for (let i = 0; i < ms; i++) {
    each();
    clock.advance(1);
    await settle();
  }
}

interface Instance {
  readonly limiter: RateLimiter;
  readonly sync: SharedLimitSync;
  readonly changes: SharedStatusChange[];
}

function instance(
  clock: ManualClock,
  store: SharedStore,
  o: { rate: number; burst: number; intervalMs?: number },
): Instance {
  const limiter = new RateLimiter({
    rate: o.rate,
    burst: o.burst,
    maxClients: 100,
    clock,
    countAdmissions: true,
  });
  const changes: SharedStatusChange[] = [];
  const sync = new SharedLimitSync({
    limiter,
    store,
    clock,
    intervalMs: o.intervalMs ?? 100,
    onChange: (c) => changes.push(c),
  });
  return { limiter, sync, changes };
}

Deno.test(
  "a fleet sharing one store admits a flooding client its rate plus the documented overshoot",
  none,
  async (t) => {
    const cases = [
      { n: 2, rate: 50, burst: 10, intervalMs: 100, latencyMs: 0 },
      { n: 2, rate: 50, burst: 10, intervalMs: 100, latencyMs: 10 },
      { n: 4, rate: 20, burst: 20, intervalMs: 100, latencyMs: 4 },
      { n: 3, rate: 200, burst: 50, intervalMs: 50, latencyMs: 2 },
    ];
    for (const c of cases) {
      await t.step(JSON.stringify(c), async () => {
        const clock = new ManualClock();
        const store = new FakeStore(clock, c.latencyMs);
        const fleet = Array.from({ length: c.n }, () => instance(clock, store, c));
        const seconds = 10;
        let admitted = 0;
        // The client sends one request to every instance each millisecond;
        // the instances sync at different moments of the interval.
        const flood = () => {
          for (const i of fleet) if (i.limiter.check("192.0.2.1").allowed) admitted++;
        };
        for (const i of fleet) {
          i.sync.start();
          await run(clock, Math.floor(c.intervalMs / c.n), flood);
        }
        await run(clock, seconds * 1000 - c.n * Math.floor(c.intervalMs / c.n), flood);
        for (const i of fleet) await i.sync[Symbol.asyncDispose]();
        const bound = c.burst + c.rate * seconds + (c.n - 1) * c.burst +
          c.n * c.rate * (c.intervalMs + c.latencyMs) / 1000;
        assert.ok(admitted <= bound, `${admitted} admitted, bound ${bound}`);
        // Shared, not N separate limits: close to the rate over the window.
        assert.ok(admitted >= c.rate * seconds, `${admitted} admitted`);
        assert.ok(admitted < c.rate * seconds * 1.5, `${admitted} admitted`);
      });
    }
  },
);

Deno.test("a client within its rate across the fleet is never refused", none, async () => {
  const clock = new ManualClock();
  const store = new FakeStore(clock, 4);
  const fleet = [0, 1].map(() => instance(clock, store, { rate: 50, burst: 10 }));
  for (const i of fleet) i.sync.start();
  let refused = 0;
  let tick = 0;
  // 40 requests a second in all, alternating between the two instances.
  await run(clock, 10_000, () => {
    if (tick++ % 25 !== 0) return;
    if (!fleet[(tick / 25) % 2 | 0]!.limiter.check("192.0.2.1").allowed) refused++;
  });
  for (const i of fleet) await i.sync[Symbol.asyncDispose]();
  assert.equal(refused, 0);
});

Deno.test(
  "SharedLimitSync fails open, reports the outage once, and the return",
  none,
  async (t) => {
    const clock = new ManualClock();
    const store = new FakeStore(clock);
    const { limiter, sync, changes } = instance(clock, store, { rate: 10, burst: 5 });
    sync.start();

    await t.step("the first sync that succeeds puts shared limits in force", async () => {
      limiter.check("192.0.2.1");
      await run(clock, 100);
      assert.equal(sync.status, "up");
      assert.deepEqual(changes, [{ from: "connecting", to: "up" }]);
    });

    await t.step("a failing store: one change with the reason, every failure counted", async () => {
      store.failure = "connect ECONNREFUSED 127.0.0.1:6379";
      limiter.check("192.0.2.1");
      await run(clock, 500, () => limiter.check("192.0.2.2"));
      assert.equal(sync.status, "down");
      assert.deepEqual(changes.slice(1), [{
        from: "up",
        to: "down",
        reason: "connect ECONNREFUSED 127.0.0.1:6379",
      }]);
      assert.equal(sync.failures, 5);
    });

    await t.step("meanwhile the local limits alone apply", () => {
      let admitted = 0;
      for (let i = 0; i < 20; i++) if (limiter.check("192.0.2.3").allowed) admitted++;
      assert.equal(admitted, 5);
    });

    await t.step("the store back: the next sync restores the shared limits", async () => {
      store.failure = undefined;
      await run(clock, 100);
      assert.equal(sync.status, "up");
      assert.deepEqual(changes.at(-1), { from: "down", to: "up" });
      // What was admitted during the outage is not charged afterwards.
      assert.equal(store.buckets.has("192.0.2.3"), true);
      assert.equal(store.buckets.has("192.0.2.2"), false);
    });

    await sync[Symbol.asyncDispose]();
    assert.equal(store.closed, true);
    assert.equal(clock.pending, 0);
  },
);

Deno.test(
  "SharedLimitSync probes a store that is down even when nothing is admitted",
  none,
  async () => {
    const clock = new ManualClock();
    const store = new FakeStore(clock);
    store.failure = "down";
    const { sync } = instance(clock, store, { rate: 10, burst: 5 });
    sync.start();
    await run(clock, 300);
    assert.equal(store.calls, 3);
    assert.equal(sync.status, "down");
    store.failure = undefined;
    await run(clock, 100);
    assert.equal(sync.status, "up");
    // Up with nothing to send: no call at all.
    await run(clock, 300);
    assert.equal(store.calls, 4);
    await sync[Symbol.asyncDispose]();
  },
);

Deno.test(
  "SharedLimitSync waits out the first connection attempt before calling it an outage",
  none,
  async () => {
    const clock = new ManualClock();
    const store = new FakeStore(clock);
    store.connecting = true;
    store.failure = "not connected";
    const { sync, changes } = instance(clock, store, { rate: 10, burst: 5 });
    sync.start();
    await run(clock, 300);
    assert.equal(sync.status, "connecting");
    assert.equal(sync.failures, 0);
    store.connecting = false;
    store.failure = "connect ECONNREFUSED 127.0.0.1:6379";
    await run(clock, 100);
    assert.deepEqual(changes, [{
      from: "connecting",
      to: "down",
      reason: "connect ECONNREFUSED 127.0.0.1:6379",
    }]);
    await sync[Symbol.asyncDispose]();
  },
);

Deno.test("a sync that does not answer is skipped, not stacked, then timed out", none, async () => {
  const clock = new ManualClock();
  const store = new FakeStore(clock);
  const { limiter, sync, changes } = instance(clock, store, { rate: 10, burst: 5 });
  sync.start();
  store.hang = true;
  // The first sync starts at 100 ms and is due to answer by 100 ms + the timeout.
  await run(clock, 100 + STORE_TIMEOUT_MS - 1, () => limiter.check("192.0.2.1"));
  // One call under way; the ticks since found it running and sent nothing.
  assert.equal(store.calls, 1);
  await run(clock, 1);
  assert.equal(store.resets, 1);
  assert.deepEqual(changes, [{
    from: "connecting",
    to: "down",
    reason: `no answer within ${STORE_TIMEOUT_MS} ms`,
  }]);
  store.hang = false;
  await run(clock, 100);
  assert.equal(sync.status, "up");
  await sync[Symbol.asyncDispose]();
  assert.equal(clock.pending, 0);
});

Deno.test("SharedLimitSync refuses an interval that cannot work", none, () => {
  const clock = new ManualClock();
  const limiter = new RateLimiter({ rate: 1, burst: 1, maxClients: 1, clock });
  for (const intervalMs of [0, -1, NaN, Infinity]) {
    assert.throws(
      () => new SharedLimitSync({ limiter, store: new FakeStore(clock), clock, intervalMs }),
      RangeError,
    );
  }
});
