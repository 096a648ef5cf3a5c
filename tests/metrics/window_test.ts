import assert from "node:assert/strict";
import { LatencyWindow } from "../../src/metrics/mod.ts";
import { windowBuffers } from "../../src/metrics/window.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

/** A window holding `values`, all recorded at time `at`. */
function filled(values: Iterable<number>, at = 1000): LatencyWindow {
  const w = new LatencyWindow();
  for (const v of values) w.record(v, at);
  return w;
}

/** 1, 2, …, n. */
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

Deno.test("LatencyWindow.percentiles() matches hand-computed nearest ranks", none, async (t) => {
  await t.step("1..100", () => {
    assert.deepEqual(filled(upTo(100)).percentiles(1000), {
      count: 100,
      p50: 50,
      p95: 95,
      p99: 99,
      mean: 50.5,
      max: 100,
    });
  });
  await t.step("1..10", () => {
    assert.deepEqual(filled(upTo(10)).percentiles(1000), {
      count: 10,
      p50: 5,
      p95: 10,
      p99: 10,
      mean: 5.5,
      max: 10,
    });
  });
  await t.step("a single sample is every percentile", () => {
    assert.deepEqual(filled([7.25]).percentiles(1000), {
      count: 1,
      p50: 7.25,
      p95: 7.25,
      p99: 7.25,
      mean: 7.25,
      max: 7.25,
    });
  });
  await t.step("duplicates count once per sample", () => {
    // sorted: 1 1 3 3 3 3 9 9 9 9 → rank 5 = 3, rank 10 = 9, mean 50/10
    assert.deepEqual(filled([3, 9, 1, 3, 9, 3, 9, 1, 3, 9]).percentiles(1000), {
      count: 10,
      p50: 3,
      p95: 9,
      p99: 9,
      mean: 5,
      max: 9,
    });
  });
  await t.step("unsorted input gives the same figures as sorted input", () => {
    // i × 37 mod 101 for i = 1..100 is a permutation of 1..100 (101 is prime).
    const shuffled = upTo(100).map((i) => (i * 37) % 101);
    assert.notDeepEqual(shuffled, upTo(100));
    assert.deepEqual(filled(shuffled).percentiles(1000), filled(upTo(100)).percentiles(1000));
  });
  await t.step("an empty window is all zeros", () => {
    assert.deepEqual(new LatencyWindow().percentiles(1000), {
      count: 0,
      p50: 0,
      p95: 0,
      p99: 0,
      mean: 0,
      max: 0,
    });
  });
});

Deno.test(
  "LatencyWindow keeps at most `capacity` samples, evicting the oldest",
  none,
  async (t) => {
    await t.step("the 1001st sample evicts the first (default capacity 1000)", () => {
      const w = filled(upTo(1000));
      assert.equal(w.percentiles(1000).count, 1000);
      w.record(1001, 1000);
      const live = w.samples(1000);
      assert.equal(live.length, 1000);
      assert.equal(live[0], 2, "sample 1 is gone, oldest first");
      assert.equal(live[999], 1001);
      assert.equal(w.percentiles(1000).max, 1001);
      assert.equal(w.percentiles(1000).mean, 501.5); // mean of 2..1001
    });
    await t.step("a small ring wraps many times and keeps the newest, oldest first", () => {
      const w = new LatencyWindow({ capacity: 3 });
      for (const v of upTo(10)) w.record(v, 1000);
      assert.deepEqual([...w.samples(1000)], [8, 9, 10]);
    });
  },
);

Deno.test("LatencyWindow counts only samples younger than maxAgeMs", none, async (t) => {
  const clock = new ManualClock(1000);
  const w = new LatencyWindow({ maxAgeMs: 1000 });
  w.record(100, clock.now()); // t = 1000
  clock.advance(500);
  w.record(200, clock.now()); // t = 1500
  clock.advance(500);
  w.record(300, clock.now()); // t = 2000

  await t.step("a sample 999 ms old still counts", () => {
    assert.deepEqual([...w.samples(1999)], [100, 200, 300]);
  });
  await t.step("a sample exactly maxAgeMs old does not", () => {
    assert.deepEqual([...w.samples(clock.now())], [200, 300]);
    assert.equal(w.percentiles(clock.now()).p50, 200);
  });
  await t.step("as time moves on the window drains to nothing", () => {
    clock.advance(499); // 2499: the 1500 sample is 999 ms old
    assert.equal(w.percentiles(clock.now()).count, 2);
    clock.advance(1); // 2500
    assert.deepEqual(w.percentiles(clock.now()), {
      count: 1,
      p50: 300,
      p95: 300,
      p99: 300,
      mean: 300,
      max: 300,
    });
    clock.advance(500); // 3000
    assert.equal(w.percentiles(clock.now()).count, 0);
  });
  await t.step("new samples after a quiet spell count alone", () => {
    w.record(40, clock.now());
    assert.deepEqual([...w.samples(clock.now())], [40]);
  });
});

Deno.test("LatencyWindow: whichever limit is smaller wins", none, () => {
  const clock = new ManualClock(0);
  const w = new LatencyWindow({ capacity: 5, maxAgeMs: 1000 });
  for (const v of upTo(10)) {
    w.record(v, clock.now());
    clock.advance(10);
  }
  assert.deepEqual([...w.samples(clock.now())], [6, 7, 8, 9, 10], "the count cap");
  // Sample v was taken at (v - 1) × 10 ms; at 1065 only those after 65 count: 8, 9, 10.
  assert.deepEqual([...w.samples(1065)], [8, 9, 10], "the age cut");
});

Deno.test("LatencyWindow.record() drops negative and non-finite latencies", none, () => {
  const w = filled([5]);
  for (const bad of [NaN, -1, Infinity, -Infinity]) w.record(bad, 1000);
  assert.deepEqual(w.percentiles(1000), { count: 1, p50: 5, p95: 5, p99: 5, mean: 5, max: 5 });
  w.record(0, 1000);
  assert.equal(w.percentiles(1000).count, 2, "zero is a valid latency");
});

Deno.test("LatencyWindow.record() writes into its preallocated arrays", none, () => {
  const w = new LatencyWindow();
  const before = windowBuffers(w);
  assert.equal(before.values.length, 1000);
  assert.equal(before.timestamps.length, 1000);
  for (let i = 0; i < 10_000; i++) w.record(i, 5000 + i);
  const after = windowBuffers(w);
  assert.equal(after.values, before.values, "same values array");
  assert.equal(after.timestamps, before.timestamps, "same timestamps array");
  assert.equal(after.values.length, 1000);
  // Slot j last received sample 9000 + j.
  for (let j = 0; j < 1000; j++) {
    assert.equal(after.values[j], 9000 + j);
    assert.equal(after.timestamps[j], 14_000 + j);
  }
});

Deno.test("LatencyWindow reads do not change the window", none, () => {
  const w = filled([30, 10, 20]);
  const copy = w.samples(1000);
  copy.fill(0);
  copy.sort();
  assert.deepEqual([...w.samples(1000)], [30, 10, 20], "samples() hands out a copy");
  assert.deepEqual(w.percentiles(1000), w.percentiles(1000));
  assert.deepEqual([...w.samples(1000)], [30, 10, 20], "percentiles() sorts a copy");
});

Deno.test("LatencyWindow rejects a capacity or maxAgeMs it cannot honour", none, () => {
  for (const capacity of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => new LatencyWindow({ capacity }), RangeError, `capacity ${capacity}`);
  }
  for (const maxAgeMs of [0, -1, NaN]) {
    assert.throws(() => new LatencyWindow({ maxAgeMs }), RangeError, `maxAgeMs ${maxAgeMs}`);
  }
  const forever = new LatencyWindow({ maxAgeMs: Infinity });
  forever.record(1, 0);
  assert.equal(forever.percentiles(1e12).count, 1, "Infinity keeps only the count cap");
  assert.equal(new LatencyWindow().capacity, 1000);
  assert.equal(new LatencyWindow().maxAgeMs, 60_000);
});
