import assert from "node:assert/strict";
import { AcceptBackoff } from "../../src/server/accept_backoff.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

Deno.test(
  "AcceptBackoff pauses 5 ms after a failed accept, doubling to at most 1 s",
  none,
  () => {
    const clock = new ManualClock();
    const backoff = new AcceptBackoff();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { delayMs } = backoff.failed(clock.now());
      delays.push(delayMs);
      clock.advance(delayMs);
    }
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  },
);

Deno.test("AcceptBackoff starts over from 5 ms after one successful accept", none, () => {
  const clock = new ManualClock();
  const backoff = new AcceptBackoff();
  for (let i = 0; i < 6; i++) backoff.failed(clock.now());
  assert.equal(backoff.delayMs, 160);
  backoff.succeeded();
  assert.equal(backoff.delayMs, 0);
  assert.equal(backoff.failed(clock.now()).delayMs, 5);
});

Deno.test(
  "AcceptBackoff asks for a log line at most once per period, with the failures since the last",
  none,
  async (t) => {
    const clock = new ManualClock();
    const backoff = new AcceptBackoff({ reportEveryMs: 10_000 });
    await t.step("the first failure is reported at once", () => {
      assert.deepEqual(backoff.failed(clock.now()).report, { failures: 1 });
    });
    await t.step("hundreds more within the period are not", () => {
      for (let i = 0; i < 500; i++) {
        clock.advance(10);
        assert.equal(backoff.failed(clock.now()).report, undefined);
      }
    });
    await t.step("the first failure after the period reports all of them", () => {
      clock.advance(5_000);
      assert.deepEqual(backoff.failed(clock.now()).report, { failures: 501 });
    });
    await t.step("successes in between do not reopen the gate", () => {
      for (let i = 0; i < 100; i++) {
        backoff.succeeded();
        clock.advance(1);
        assert.equal(backoff.failed(clock.now()).report, undefined);
      }
      clock.advance(10_000);
      assert.deepEqual(backoff.failed(clock.now()).report, { failures: 101 });
    });
  },
);

Deno.test("AcceptBackoff takes its bounds from options", none, () => {
  const backoff = new AcceptBackoff({ initialMs: 10, maxMs: 35 });
  const delays = [0, 0, 0, 0].map(() => backoff.failed(0).delayMs);
  assert.deepEqual(delays, [10, 20, 35, 35]);
});
