/**
 * Costs of the metrics building blocks: `record()` runs once per proxied
 * request, `percentiles()` and `combinedP95()` once per metrics tick.
 *
 * Run: `deno bench --no-prompt tests/metrics/metrics_bench.ts`
 *
 * @module
 */

import {
  BackendStats,
  combinedP95,
  LatencyWindow,
  snapshotBackend,
} from "../../src/metrics/mod.ts";

/** A window filled to capacity with pseudo-random latencies, all live at `NOW`. */
const NOW = 100_000;
function fullWindow(capacity = 1000): LatencyWindow {
  const w = new LatencyWindow({ capacity });
  let x = 12345;
  for (let i = 0; i < capacity; i++) {
    x = (x * 1103515245 + 12345) % 2147483648; // LCG: deterministic, unsorted input
    w.record((x % 50_000) / 100, NOW - capacity + i);
  }
  return w;
}

const recording = new LatencyWindow();
let t = 0;
Deno.bench("LatencyWindow.record() (request path)", { group: "record", baseline: true }, () => {
  recording.record(12.5, t++);
});

const full = fullWindow();
Deno.bench("LatencyWindow.percentiles() on a full 1000-sample window", { group: "tick" }, () => {
  full.percentiles(NOW);
});

const stats = new BackendStats();
for (let i = 0; i < 1000; i++) stats.latency.record(i % 700, NOW - 1000 + i);
Deno.bench("snapshotBackend() on a full window", { group: "tick" }, () => {
  snapshotBackend(stats, NOW);
});

const pool = Array.from({ length: 3 }, () => {
  const s = new BackendStats();
  for (let i = 0; i < 1000; i++) s.latency.record((i * 7) % 900, NOW - 1000 + i);
  return s;
});
Deno.bench("combinedP95() over three full windows", { group: "tick" }, () => {
  combinedP95(pool, NOW);
});
