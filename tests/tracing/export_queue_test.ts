/** The export queue: batches, bounds, timeouts and drop reports, on a manual clock. */

import assert from "node:assert/strict";
import { createLogger } from "../../src/log/mod.ts";
import {
  DROP_WARNING_INTERVAL_MS,
  ExportQueue,
  type SendBatch,
  TracingCounters,
} from "../../src/tracing/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";

/** A send the test settles by hand. */
interface Pending {
  readonly batch: readonly number[];
  readonly signal: AbortSignal;
  ok(): void;
  fail(e: Error): void;
}

function setup(options: { maxQueue?: number; maxBatch?: number } = {}) {
  const clock = new ManualClock();
  const warnings: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: "warn",
    sink: (line) => warnings.push(JSON.parse(line)),
  });
  const counters = new TracingCounters();
  const sends: Pending[] = [];
  const send: SendBatch<number> = (batch, signal) =>
    new Promise((resolve, reject) => {
      signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
      sends.push({ batch, signal, ok: resolve, fail: reject });
    });
  const queue = new ExportQueue<number>({
    send,
    clock,
    logger,
    counters,
    delayMs: 1000,
    timeoutMs: 5000,
    maxQueue: options.maxQueue ?? 100,
    maxBatch: options.maxBatch ?? 10,
  });
  return { clock, warnings, counters, sends, queue };
}

/** Lets settled sends run their bookkeeping. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("ExportQueue sends a partial batch after the delay, a full one at once", async () => {
  const { clock, sends, queue, counters } = setup({ maxBatch: 3 });
  queue.push(1);
  queue.push(2);
  assert.equal(sends.length, 0);
  clock.advance(1000);
  assert.deepEqual(sends.map((s) => s.batch), [[1, 2]]);
  sends[0]!.ok();
  await settle();
  assert.equal(counters.exported, 2);
  for (const n of [3, 4, 5]) queue.push(n);
  assert.deepEqual(sends.map((s) => s.batch), [[1, 2], [3, 4, 5]]);
  sends[1]!.ok();
  await settle();
  assert.equal(counters.exported, 5);
  assert.equal(clock.pending, 0, "nothing left scheduled");
});

Deno.test("ExportQueue keeps one send in flight; what queued meanwhile goes next", async () => {
  const { clock, sends, queue } = setup({ maxBatch: 2 });
  queue.push(1);
  queue.push(2);
  queue.push(3);
  queue.push(4);
  queue.push(5);
  assert.equal(sends.length, 1, "the second full batch waits for the first");
  sends[0]!.ok();
  await settle();
  assert.deepEqual(sends.map((s) => s.batch), [[1, 2], [3, 4]]);
  sends[1]!.ok();
  await settle();
  assert.equal(sends.length, 2, "a partial batch waits for the delay");
  clock.advance(1000);
  assert.deepEqual(sends[2]?.batch, [5]);
  sends[2]!.ok();
  await settle();
});

Deno.test("ExportQueue drops what does not fit, and counts it", async () => {
  const { clock, sends, queue, counters, warnings } = setup({ maxQueue: 3, maxBatch: 10 });
  for (let i = 0; i < 5; i++) queue.push(i);
  assert.equal(queue.waiting, 3);
  assert.equal(counters.dropped, 2);
  assert.deepEqual(warnings.map((w) => [w.msg, w.dropped, w.reason]), [
    ["tracing spans dropped", 1, "queue full"],
  ]);
  clock.advance(1000);
  sends[0]!.ok();
  await settle();
});

Deno.test("ExportQueue drops a batch the collector refused, warning at most once per interval", async () => {
  const { clock, sends, queue, counters, warnings } = setup({ maxBatch: 1 });
  queue.push(1);
  sends[0]!.fail(new Error("collector answered 500"));
  await settle();
  queue.push(2);
  sends[1]!.fail(new Error("collector answered 500"));
  await settle();
  assert.equal(counters.dropped, 2);
  assert.equal(warnings.length, 1, "the second drop waits for the next warning");
  clock.advance(DROP_WARNING_INTERVAL_MS);
  queue.push(3);
  sends[2]!.fail(new Error("collector answered 503"));
  await settle();
  assert.deepEqual(warnings.map((w) => [w.dropped, w.reason]), [
    [1, "export failed: collector answered 500"],
    [2, "export failed: collector answered 503"],
  ]);
  assert.equal(counters.exported, 0);
});

Deno.test("ExportQueue aborts a send that takes longer than its timeout", async () => {
  const { clock, sends, queue, counters, warnings } = setup();
  queue.push(1);
  clock.advance(1000);
  clock.advance(5000);
  assert.equal(sends[0]!.signal.aborted, true);
  await settle();
  assert.equal(counters.dropped, 1);
  assert.equal(warnings[0]?.reason, "export timed out");
});

Deno.test("ExportQueue.close() sends what is queued, then drops what comes after", async () => {
  const { sends, queue, counters } = setup({ maxBatch: 2 });
  queue.push(1);
  queue.push(2);
  queue.push(3);
  const closed = queue.close(3000);
  await settle();
  sends[0]!.ok();
  await settle();
  assert.deepEqual(sends[1]?.batch, [3], "the rest is sent without waiting for the delay");
  sends[1]!.ok();
  await closed;
  assert.equal(counters.exported, 3);
  queue.push(4);
  assert.equal(counters.dropped, 1);
  assert.equal(sends.length, 2);
});

Deno.test("ExportQueue.close() waits only so long: what is in flight or queued then is dropped", async () => {
  const { clock, sends, queue, counters, warnings } = setup({ maxBatch: 2 });
  for (const n of [1, 2, 3]) queue.push(n);
  const closed = queue.close(3000);
  await settle();
  clock.advance(3000);
  await closed;
  assert.equal(sends[0]!.signal.aborted, true);
  assert.equal(counters.dropped, 3);
  assert.equal(counters.exported, 0);
  assert.equal(warnings.reduce((n, w) => n + (w.dropped as number), 0), 3);
  assert.equal(clock.pending, 0);
});
