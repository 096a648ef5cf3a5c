import assert from "node:assert/strict";
import { type AdaptiveChange, AdaptiveLoop, type AdaptiveSettings } from "../../src/limit/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

const settings: AdaptiveSettings = {
  latencyThresholdMs: 500,
  reductionFactor: 0.8,
  recoveryFactor: 1.1,
  minRate: 10,
  maxRate: 500,
};

/** A loop every 10 s on a manual clock, fed from `readings` (then `undefined`). */
function setup(readings: Array<number | undefined> = []) {
  const clock = new ManualClock();
  const observed: number[] = [];
  const applied: number[] = [];
  const changes: AdaptiveChange[] = [];
  const loop = new AdaptiveLoop({
    intervalMs: 10_000,
    clock,
    settings,
    initialRate: 100,
    observe: () => {
      observed.push(clock.now());
      return readings.shift();
    },
    apply: (rate) => applied.push(rate),
    onChange: (change) => changes.push(change),
  });
  return { clock, loop, observed, applied, changes };
}

Deno.test("AdaptiveLoop evaluates once per interval, starting one interval in", none, async (t) => {
  const { clock, loop, observed } = setup();
  const root = new AbortController();
  loop.start(root.signal);
  await t.step("nothing before the first interval has passed", () => {
    clock.advance(9_999);
    assert.deepEqual(observed, []);
    assert.equal(loop.running, true);
  });
  await t.step("then one evaluation at each interval", () => {
    clock.advance(1);
    assert.deepEqual(observed, [11_000]);
    clock.advance(30_000);
    assert.deepEqual(observed, [11_000, 21_000, 31_000, 41_000]);
  });
  await t.step("exactly one timer is pending between evaluations", () => {
    assert.equal(clock.pending, 1);
  });
  root.abort();
});

Deno.test("AdaptiveLoop applies a changed rate and reports old, new and p95", none, () => {
  const { clock, loop, applied, changes } = setup([600, 600, 700, 400, 100]);
  const root = new AbortController();
  loop.start(root.signal);
  clock.advance(50_000);
  assert.deepEqual(applied, [80, 64, 64 * 1.1]);
  assert.deepEqual(changes, [
    { from: 100, to: 80, p95: 600, reason: "reduce" },
    { from: 80, to: 64, p95: 700, reason: "reduce" },
    { from: 64, to: 64 * 1.1, p95: 100, reason: "recover" },
  ]);
  assert.deepEqual(loop.state, { rate: 64 * 1.1, reducedLastTime: false });
  assert.ok(Object.isFrozen(loop.state));
  assert.ok(Object.isFrozen(changes[0]));
  root.abort();
});

Deno.test("AdaptiveLoop stops on abort and leaves no timer behind", none, async (t) => {
  const { clock, loop, observed } = setup();
  const root = new AbortController();
  loop.start(root.signal);
  clock.advance(20_000);
  await t.step("abort cancels the pending timer", () => {
    root.abort();
    assert.equal(clock.pending, 0);
    assert.equal(loop.running, false);
  });
  await t.step("no evaluation happens afterwards", () => {
    clock.advance(100_000);
    assert.equal(observed.length, 2);
  });
  await t.step("it cannot be started again", () => {
    assert.throws(() => loop.start(new AbortController().signal), Error);
    assert.equal(clock.pending, 0);
  });
});

Deno.test("AdaptiveLoop started with an aborted signal never schedules", none, () => {
  const { clock, loop } = setup();
  loop.start(AbortSignal.abort());
  assert.equal(clock.pending, 0);
  assert.equal(loop.running, false);
});

Deno.test("AdaptiveLoop stops when disposed, like an abort", none, () => {
  const { clock, loop, observed } = setup();
  const root = new AbortController();
  {
    using running = loop;
    running.start(root.signal);
    clock.advance(10_000);
  }
  assert.equal(clock.pending, 0);
  clock.advance(100_000);
  assert.equal(observed.length, 1);
  root.abort(); // aborting later is harmless
});

Deno.test("AdaptiveLoop refuses to start twice", none, () => {
  const { clock, loop } = setup();
  const root = new AbortController();
  loop.start(root.signal);
  assert.throws(() => loop.start(root.signal), Error);
  assert.equal(clock.pending, 1);
  root.abort();
});

Deno.test("AdaptiveLoop.tick() evaluates now, without a timer", none, () => {
  const { clock, loop, applied } = setup([900, 900, undefined]);
  assert.deepEqual(loop.tick(), { from: 100, to: 80, p95: 900, reason: "reduce" });
  assert.equal(loop.tick(), undefined, "hysteresis skip");
  assert.equal(loop.tick(), undefined, "no samples");
  assert.deepEqual(applied, [80]);
  assert.equal(clock.pending, 0);
});

Deno.test("AdaptiveLoop keeps running after an observer throws", none, () => {
  const clock = new ManualClock();
  let calls = 0;
  const loop = new AdaptiveLoop({
    intervalMs: 1000,
    clock,
    settings,
    initialRate: 100,
    observe: () => {
      if (++calls === 1) throw new Error("metrics unavailable");
      return 900;
    },
    apply: () => {},
  });
  const root = new AbortController();
  loop.start(root.signal);
  assert.throws(() => clock.advance(1000), /metrics unavailable/);
  assert.equal(clock.pending, 1);
  clock.advance(1000);
  assert.equal(loop.state.rate, 80);
  root.abort();
  assert.equal(clock.pending, 0);
});

Deno.test("AdaptiveLoop refuses an interval that is not a positive number", none, () => {
  for (const intervalMs of [0, -1, NaN, Infinity]) {
    assert.throws(
      () =>
        new AdaptiveLoop({
          intervalMs,
          clock: new ManualClock(),
          settings,
          initialRate: 100,
          observe: () => undefined,
          apply: () => {},
        }),
      RangeError,
    );
  }
});
