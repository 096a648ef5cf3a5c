/**
 * `beginAttempt()`: one try of one backend as a disposable permit over a
 * real backend state (its counters and circuit breaker), on a manual clock.
 */

import assert from "node:assert/strict";
import { attemptCounts } from "../_helpers/attempts.ts";
import { createPool } from "../../src/pool/mod.ts";
import { type Attempt, beginAttempt } from "../../src/pool/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { testConfig } from "../_helpers/config.ts";

const env: Pick<Deno.TestDefinition, "permissions"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

/**
 * One backend whose breaker opens on the second failure in a row, so a
 * failure counted twice would show as an open breaker.
 */
async function backend(overrides: Record<string, unknown> = {}) {
  const clock = new ManualClock();
  const config = await testConfig(["http://127.0.0.1:9"], {
    circuit_breaker: { failure_threshold: 2, success_threshold: 1, open_timeout: "1s" },
    ...overrides,
  });
  return { state: createPool(config.pools.default!, { clock }).states[0]!, clock };
}

const idle = { requests: 1, inFlight: 0, errors: 0, failuresInARow: 0, breaker: "closed" };

Deno.test(
  "beginAttempt() counts the try in flight until disposal gives it back, ONCE, blaming nobody",
  env,
  async () => {
    const { state } = await backend();
    let held: Attempt;
    {
      using attempt = beginAttempt(state);
      assert.ok(attempt);
      held = attempt;
      assert.equal(state.stats.inFlight, 1);
    }
    assert.deepEqual(attemptCounts(state), idle);
    held[Symbol.dispose]();
    assert.deepEqual(attemptCounts(state), idle, "a second disposal changes nothing");
  },
);

Deno.test("Attempt.end() counts ONCE, whatever ends or disposal follow", env, async (t) => {
  await t.step("failure", async () => {
    const { state } = await backend();
    {
      using attempt = beginAttempt(state)!;
      attempt.end("failure");
      attempt.end("failure");
      attempt.end("success");
    }
    assert.deepEqual(attemptCounts(state), { ...idle, errors: 1, failuresInARow: 1 });
  });
  await t.step("success clears the failures before it", async () => {
    const { state } = await backend();
    beginAttempt(state)!.end("failure");
    {
      using attempt = beginAttempt(state)!;
      attempt.end("success");
      attempt.end("failure");
    }
    assert.deepEqual(attemptCounts(state), { ...idle, requests: 2, errors: 1 });
  });
});

Deno.test("Attempt.verdict is what disposal ends an unended try with", env, async () => {
  const { state } = await backend();
  {
    using attempt = beginAttempt(state)!;
    attempt.verdict = "failure";
  }
  assert.deepEqual(attemptCounts(state), { ...idle, errors: 1, failuresInARow: 1 });
});

Deno.test("a throw inside `using` gives the try back with its verdict", env, async () => {
  const { state } = await backend();
  const fails = () => {
    using attempt = beginAttempt(state)!;
    attempt.verdict = "failure";
    throw new Error("the backend's answer was unusable");
  };
  assert.throws(fails, /unusable/);
  assert.deepEqual(attemptCounts(state), { ...idle, errors: 1, failuresInARow: 1 });
});

Deno.test(
  "Attempt.move() hands the try on: the old handle's disposal ends nothing, the new one's ends it",
  env,
  async () => {
    const { state } = await backend();
    let moved: Attempt;
    {
      using attempt = beginAttempt(state)!;
      attempt.verdict = "failure";
      moved = attempt.move();
      assert.throws(() => attempt.end("success"), ReferenceError);
      assert.throws(() => attempt.move(), ReferenceError);
      assert.equal(attempt.state, state, "what was tried is still known");
    }
    assert.equal(state.stats.inFlight, 1, "still in flight after the old holder let go");
    assert.equal(moved.verdict, "failure", "the verdict moves with the try");
    moved.end("success");
    moved[Symbol.dispose]();
    assert.deepEqual(attemptCounts(state), idle);
  },
);

Deno.test(
  "beginAttempt() takes a half-open probe slot and disposal frees it, ONCE",
  env,
  async () => {
    const { state, clock } = await backend({
      circuit_breaker: {
        failure_threshold: 1,
        success_threshold: 2,
        open_timeout: "1s",
        half_open_max_requests: 1,
      },
    });
    beginAttempt(state)!.end("failure");
    assert.equal(beginAttempt(state), undefined, "open: no try at all");
    clock.advance(1000);
    const probe = beginAttempt(state)!;
    assert.equal(state.breaker.snapshot().halfOpenInFlight, 1);
    assert.equal(beginAttempt(state), undefined, "the only probe slot is taken");
    probe[Symbol.dispose]();
    probe[Symbol.dispose]();
    assert.equal(state.breaker.snapshot().halfOpenInFlight, 0);
    assert.equal(state.breaker.snapshot().state, "half_open", "a neutral end decides nothing");
    assert.equal(state.stats.inFlight, 0);
    using next = beginAttempt(state);
    assert.ok(next, "the slot is free again");
  },
);
