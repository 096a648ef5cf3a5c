/** Retirements: a retired transport is closed once idle, and at the latest on dispose. */

import assert from "node:assert/strict";
import { RETIRE_CHECK_MS, Retirements } from "../../src/runtime/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { echoTransport } from "../_helpers/runtime.ts";

Deno.test("Retirements.retire() closes an idle transport at once", () => {
  const retired = new Retirements(new ManualClock());
  const t = echoTransport();
  retired.retire(t, () => false);
  assert.equal(t.closed, 1);
  assert.equal(retired.waiting, 0);
});

Deno.test("Retirements.retire() waits for a busy transport, checking on the clock", () => {
  const clock = new ManualClock();
  const retired = new Retirements(clock);
  const t = echoTransport();
  let busy = true;
  retired.retire(t, () => busy);
  clock.advance(RETIRE_CHECK_MS * 3);
  assert.equal(t.closed, 0);
  busy = false;
  clock.advance(RETIRE_CHECK_MS);
  assert.equal(t.closed, 1);
  assert.equal(clock.pending, 0);
});

Deno.test("disposing Retirements closes what still waits, and anything retired later at once", () => {
  const clock = new ManualClock();
  const retired = new Retirements(clock);
  const t = echoTransport();
  retired.retire(t, () => true);
  retired[Symbol.dispose]();
  assert.equal(t.closed, 1);
  assert.equal(clock.pending, 0, "no timer left");
  const later = echoTransport();
  retired.retire(later, () => true);
  assert.equal(later.closed, 1);
});
