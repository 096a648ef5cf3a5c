import assert from "node:assert/strict";
import {
  type Bucket,
  createBucket,
  createRefill,
  type Refill,
  setRefillRate,
  settle,
  take,
} from "../../src/limit/bucket.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

/** A refill and one bucket on a manual clock starting at 1000 ms. */
function setup(rate: number, burst: number) {
  const clock = new ManualClock();
  const refill = createRefill(rate, burst, clock.now());
  const bucket = createBucket(refill, clock.now());
  return { clock, refill, bucket };
}

/** Takes `n` tokens that must all be granted. */
function drain(bucket: Bucket, refill: Refill, now: number, n: number): void {
  for (let i = 0; i < n; i++) assert.equal(take(bucket, refill, now), 0, `token ${i + 1} of ${n}`);
}

Deno.test("take() grants a new bucket's whole burst at once, then refuses", none, () => {
  const { clock, refill, bucket } = setup(10, 5);
  drain(bucket, refill, clock.now(), 5);
  assert.ok(take(bucket, refill, clock.now()) > 0);
});

Deno.test("settle() refills at `rate` tokens per second of elapsed time", none, async (t) => {
  const { clock, refill, bucket } = setup(10, 5);
  drain(bucket, refill, clock.now(), 5);
  await t.step("after 250 ms at 10/s: 2.5 tokens", () => {
    clock.advance(250);
    assert.equal(settle(bucket, refill, clock.now()), 2.5);
  });
  await t.step("settling twice at the same time adds nothing", () => {
    assert.equal(settle(bucket, refill, clock.now()), 2.5);
  });
  await t.step("two whole tokens can be taken, the half stays", () => {
    drain(bucket, refill, clock.now(), 2);
    assert.equal(settle(bucket, refill, clock.now()), 0.5);
  });
});

Deno.test("settle() never fills a bucket past `burst`", none, () => {
  const { clock, refill, bucket } = setup(10, 5);
  drain(bucket, refill, clock.now(), 3);
  clock.advance(3_600_000);
  assert.equal(settle(bucket, refill, clock.now()), 5);
  drain(bucket, refill, clock.now(), 5);
  assert.ok(take(bucket, refill, clock.now()) > 0);
});

Deno.test(
  "take() on an empty bucket returns the exact wait for one whole token",
  none,
  async (t) => {
    await t.step("10/s, empty: 100 ms", () => {
      const { clock, refill, bucket } = setup(10, 1);
      drain(bucket, refill, clock.now(), 1);
      assert.equal(take(bucket, refill, clock.now()), 100);
    });
    await t.step("10/s, 0.3 tokens held: 70 ms", () => {
      const { clock, refill, bucket } = setup(10, 1);
      drain(bucket, refill, clock.now(), 1);
      clock.advance(30);
      assert.equal(take(bucket, refill, clock.now()), 70);
    });
    await t.step("3/s: a third of a second, not rounded", () => {
      const { clock, refill, bucket } = setup(3, 1);
      drain(bucket, refill, clock.now(), 1);
      assert.equal(take(bucket, refill, clock.now()), 1000 / 3);
    });
    await t.step("0.4/s: 2500 ms", () => {
      const { clock, refill, bucket } = setup(0.4, 1);
      drain(bucket, refill, clock.now(), 1);
      assert.equal(take(bucket, refill, clock.now()), 2500);
    });
    await t.step("a refused take leaves the bucket as it was", () => {
      const { clock, refill, bucket } = setup(10, 1);
      drain(bucket, refill, clock.now(), 1);
      clock.advance(40);
      assert.equal(take(bucket, refill, clock.now()), 60);
      assert.equal(take(bucket, refill, clock.now()), 60);
      assert.equal(settle(bucket, refill, clock.now()), 0.4);
    });
    await t.step("waiting exactly the returned time makes the next take succeed", () => {
      const { clock, refill, bucket } = setup(10, 1);
      drain(bucket, refill, clock.now(), 1);
      clock.advance(take(bucket, refill, clock.now()));
      assert.equal(take(bucket, refill, clock.now()), 0);
    });
  },
);

Deno.test(
  "setRefillRate() keeps credit earned at the old rate and refills at the new one",
  none,
  async (t) => {
    await t.step("raise 10/s → 100/s, bucket not settled in between", () => {
      const { clock, refill, bucket } = setup(10, 10);
      drain(bucket, refill, clock.now(), 10);
      clock.advance(300); // 3 tokens at 10/s
      setRefillRate(refill, 100, clock.now());
      clock.advance(50); // 5 tokens at 100/s
      assert.equal(settle(bucket, refill, clock.now()), 8);
    });
    await t.step("lower 100/s → 10/s", () => {
      const { clock, refill, bucket } = setup(100, 10);
      drain(bucket, refill, clock.now(), 10);
      clock.advance(20); // 2 tokens at 100/s
      setRefillRate(refill, 10, clock.now());
      clock.advance(100); // 1 token at 10/s
      assert.equal(settle(bucket, refill, clock.now()), 3);
    });
    await t.step("the wait after a change is at the new rate", () => {
      const { clock, refill, bucket } = setup(10, 1);
      drain(bucket, refill, clock.now(), 1);
      clock.advance(50); // half a token at 10/s
      setRefillRate(refill, 1, clock.now());
      assert.equal(take(bucket, refill, clock.now()), 500);
    });
    await t.step("several changes between two settles all count", () => {
      const { clock, refill, bucket } = setup(10, 100);
      drain(bucket, refill, clock.now(), 100);
      for (const rate of [20, 40, 80]) {
        clock.advance(100);
        setRefillRate(refill, rate, clock.now());
      }
      clock.advance(100);
      assert.equal(settle(bucket, refill, clock.now()), 1 + 2 + 4 + 8);
    });
    await t.step("the burst cap still holds across a change", () => {
      const { clock, refill, bucket } = setup(10, 5);
      drain(bucket, refill, clock.now(), 5);
      clock.advance(400);
      setRefillRate(refill, 100, clock.now());
      clock.advance(1000);
      assert.equal(settle(bucket, refill, clock.now()), 5);
    });
  },
);

Deno.test("take() counts a token earned in float pieces that sum a hair under 1", none, () => {
  // 0.7 + 0.2 + 0.1 is 0.9999999999999999 in binary floating point.
  const { clock, refill, bucket } = setup(7, 1);
  drain(bucket, refill, clock.now(), 1);
  clock.advance(100);
  setRefillRate(refill, 2, clock.now());
  clock.advance(100);
  setRefillRate(refill, 1, clock.now());
  clock.advance(100);
  assert.ok(settle(bucket, refill, clock.now()) < 1);
  assert.equal(take(bucket, refill, clock.now()), 0);
  assert.equal(settle(bucket, refill, clock.now()), 0);
});

Deno.test(
  "createRefill() and setRefillRate() refuse rates and bursts that cannot work",
  none,
  () => {
    for (const rate of [0, -1, NaN, Infinity]) {
      assert.throws(() => createRefill(rate, 1, 0), RangeError, `rate ${rate}`);
      assert.throws(
        () => setRefillRate(createRefill(1, 1, 0), rate, 0),
        RangeError,
        `rate ${rate}`,
      );
    }
    for (const burst of [0, 0.5, -1, NaN, Infinity]) {
      assert.throws(() => createRefill(1, burst, 0), RangeError, `burst ${burst}`);
    }
  },
);
