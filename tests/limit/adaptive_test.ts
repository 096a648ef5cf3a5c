import assert from "node:assert/strict";
import {
  type AdaptiveChange,
  type AdaptiveSettings,
  type AdaptiveState,
  evaluate,
} from "../../src/limit/mod.ts";

const none = { permissions: "none" } as const;

/** Threshold 500 ms (recovery below 350 ms), ×0.8 down, ×1.1 up, rate within 50…150. */
const settings: AdaptiveSettings = {
  latencyThresholdMs: 500,
  reductionFactor: 0.8,
  recoveryFactor: 1.1,
  minRate: 50,
  maxRate: 150,
};

/** One scripted evaluation: the reading, and what must follow from it. */
interface Step {
  readonly p95: number | undefined;
  readonly rate: number;
  readonly reducedLastTime: boolean;
  readonly reason?: AdaptiveChange["reason"];
  readonly why: string;
}

/** Walks `script` from `start`, checking every step's rate, flag and change. */
async function walk(t: Deno.TestContext, start: AdaptiveState, script: readonly Step[]) {
  let state = start;
  for (const [i, step] of script.entries()) {
    await t.step(`${i + 1}. p95 ${step.p95}: ${step.why}`, () => {
      const next = evaluate(state, step.p95, settings);
      assert.deepEqual(next.state, { rate: step.rate, reducedLastTime: step.reducedLastTime });
      if (step.reason) {
        assert.deepEqual(next.change, {
          from: state.rate,
          to: step.rate,
          p95: step.p95,
          reason: step.reason,
        });
      } else {
        assert.equal(next.change, undefined);
      }
      state = next.state;
    });
  }
}

Deno.test("evaluate() walks a scripted latency series step by step", none, async (t) => {
  const r1 = 100 * 0.8;
  const r2 = r1 * 0.8;
  const r3 = r2 * 1.1;
  const r4 = r3 * 0.8;
  await walk(t, { rate: 100, reducedLastTime: false }, [
    { p95: 600, rate: r1, reducedLastTime: true, reason: "reduce", why: "over threshold: reduce" },
    { p95: 900, rate: r1, reducedLastTime: false, why: "right after a reduction: skip" },
    {
      p95: 700,
      rate: r2,
      reducedLastTime: true,
      reason: "reduce",
      why: "still high: reduce again",
    },
    { p95: 400, rate: r2, reducedLastTime: false, why: "in the band: hold" },
    { p95: 500, rate: r2, reducedLastTime: false, why: "at the threshold: hold" },
    { p95: 350, rate: r2, reducedLastTime: false, why: "at 70 % of it: hold" },
    { p95: 349, rate: r3, reducedLastTime: false, reason: "recover", why: "under 70 %: recover" },
    {
      p95: 600,
      rate: r4,
      reducedLastTime: true,
      reason: "reduce",
      why: "high after a recovery: reduce",
    },
    { p95: undefined, rate: r4, reducedLastTime: false, why: "no samples: hold, flag clears" },
    { p95: 600, rate: 50, reducedLastTime: true, reason: "reduce", why: "reduce, clamped at min" },
    { p95: 600, rate: 50, reducedLastTime: false, why: "skip" },
    { p95: 600, rate: 50, reducedLastTime: false, why: "at min: no change, nothing to wait for" },
    { p95: 600, rate: 50, reducedLastTime: false, why: "still at min" },
    {
      p95: 100,
      rate: 50 * 1.1,
      reducedLastTime: false,
      reason: "recover",
      why: "recover from min",
    },
  ]);
});

Deno.test("evaluate() recovers step by step up to maxRate and stays there", none, async (t) => {
  const r1 = 130 * 1.1;
  await walk(t, { rate: 130, reducedLastTime: false }, [
    { p95: 10, rate: r1, reducedLastTime: false, reason: "recover", why: "recover" },
    { p95: 0, rate: 150, reducedLastTime: false, reason: "recover", why: "clamped at max" },
    { p95: 0, rate: 150, reducedLastTime: false, why: "at max: no change" },
    { p95: 400, rate: 150, reducedLastTime: false, why: "band: hold" },
    { p95: 501, rate: 120, reducedLastTime: true, reason: "reduce", why: "just over: reduce" },
  ]);
});

Deno.test("evaluate() with no samples changes nothing and clears the flag", none, () => {
  const next = evaluate({ rate: 80, reducedLastTime: true }, undefined, settings);
  assert.deepEqual(next, { state: { rate: 80, reducedLastTime: false } });
});

Deno.test("evaluate() moves a rate outside min…max only towards the range", none, async (t) => {
  await t.step("a reduction never raises a rate under minRate", () => {
    const next = evaluate({ rate: 20, reducedLastTime: false }, 900, settings);
    assert.deepEqual(next, { state: { rate: 20, reducedLastTime: false } });
  });
  await t.step("a recovery never lowers a rate over maxRate", () => {
    const next = evaluate({ rate: 400, reducedLastTime: false }, 10, settings);
    assert.deepEqual(next, { state: { rate: 400, reducedLastTime: false } });
  });
  await t.step("a reduction from over maxRate is a plain reduction", () => {
    const next = evaluate({ rate: 400, reducedLastTime: false }, 900, settings);
    assert.equal(next.state.rate, 320);
  });
});

Deno.test("evaluate() does not modify the state it is given", none, () => {
  const state = Object.freeze({ rate: 100, reducedLastTime: false });
  const next = evaluate(state, 600, settings);
  assert.notEqual(next.state, state);
  assert.deepEqual(state, { rate: 100, reducedLastTime: false });
});
