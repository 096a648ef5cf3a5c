import assert from "node:assert/strict";
import { Dashboard, render } from "../../src/dashboard/mod.ts";
import { sparkline } from "../../src/dashboard/_sparkline.ts";
import { displayWidth } from "../../src/dashboard/_text.ts";
import type { HistoryPoint } from "../../src/snapshot/mod.ts";
import { NOW, plain, snapshot } from "./_fixtures.ts";

const VIEW = { paused: false, eventScroll: 0 };

/** `n` points a second apart ending at NOW, requests/s and P95 from the functions given. */
function points(
  n: number,
  rps: (i: number) => number | null,
  p95: (i: number) => number | null,
): HistoryPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    time: NOW - (n - 1 - i) * 1000,
    requestsPerSecond: rps(i),
    errorShare: 0,
    p95: p95(i),
    rateLimitedPerSecond: 0,
    connections: 1,
  }));
}

Deno.test("sparkline: scaled to its highest column, blanks where there is no figure", () => {
  assert.equal(sparkline([0, 5, 10, null], 10, "mean"), "▁▅█ ");
  assert.equal(sparkline([3, 3, 3], 10, "mean"), "███", "a flat line sits at the top");
  assert.equal(
    sparkline([0, 0], 10, "mean"),
    "▁▁",
    "all zero is the bottom, not a division by zero",
  );
  assert.equal(sparkline([1, 2, 3], 0, "mean"), "");
});

Deno.test("sparkline: more points than columns fold, a spike survives in the max", () => {
  const values = Array.from({ length: 100 }, (_, i) => (i === 42 ? 1000 : 10));
  const max = sparkline(values, 10, "max");
  const mean = sparkline(values, 10, "mean");
  assert.equal(max.length, 10);
  assert.equal(max, "▁▁▁▁█▁▁▁▁▁", "P95's spike stays visible");
  assert.equal(mean[4], "█", "the mean column with the spike is still the highest");
});

Deno.test("history line: two sparklines that fill the width, with the newest figures", () => {
  const history = points(900, (i) => i, (i) => (i % 100 === 0 ? 250 : 20));
  const lines = plain(snapshot(3), 100, 30, { ...VIEW, history });
  const line = lines[2]!;
  assert.match(line, /^req\/s [▁-█]+ 899\.0 · P95 [▁-█]+ 20 ms · 14m59s$/);
  assert.equal(displayWidth(line), 100, "the sparklines take the width the labels leave");
});

Deno.test("history line: says so before the first figure, and goes first on a short terminal", () => {
  const empty = plain(snapshot(3), 80, 24, { ...VIEW, history: [] });
  assert.equal(empty[2], "history: no figures yet");
  const history = points(10, () => 5, () => 10);
  // 8 lines of chrome + 3 backend rows + the history line: everything fits.
  assert.match(plain(snapshot(3), 80, 12, { ...VIEW, history })[2]!, /^req\/s █+ 5\.0 · P95/);
  // One line fewer: the history line is the first to go, the rest is as without it.
  assert.deepEqual(plain(snapshot(3), 80, 11, { ...VIEW, history }), plain(snapshot(3), 80, 11));
});

Deno.test("history line: absent without a history, as before", () => {
  const lines = render(snapshot(3), { width: 80, height: 24, color: false });
  assert.ok(!lines.some((l) => l.includes(" · P95 ") || l.startsWith("history")));
});

Deno.test("the dashboard draws the history it is given, and keeps it while paused", () => {
  const writes: string[] = [];
  let history = points(5, () => 1, () => 1);
  const dash = new Dashboard({
    snapshot: () => snapshot(3),
    history: () => history,
    refreshMs: 60_000,
    onQuit: () => {},
    color: false,
    terminal: {
      write: (t) => void writes.push(t),
      size: () => ({ columns: 80, rows: 24 }),
      setRaw: () => {},
      keys: async function* () {},
    },
  });
  dash.start();
  assert.match(writes.at(-1)!, /req\/s ▁*█+ 1\.0/);
  dash.handleKeys(new TextEncoder().encode("p"));
  history = points(5, () => 7, () => 1);
  dash.handleKeys(new TextEncoder().encode("\x1b[A"));
  assert.match(writes.at(-1)!, / 1\.0 · P95/, "paused: the history drawn is the one it had");
  dash.stop();
});
