import assert from "node:assert/strict";
import { COLUMN_DROP_ORDER } from "../../src/dashboard/mod.ts";
import { backend, columnsShown, lineWith, plain, scene, snapshot } from "./_fixtures.ts";

Deno.test("render() truncates a long URL in the host's middle and keeps the port", () => {
  const id =
    "http://very-long-backend-host-name-for-the-eu-west-1-region.internal.example.com:8443";
  const lines = plain(snapshot(0, { backends: [backend(0, { id })] }), 80, 24);
  const row = lineWith(lines, ":8443");
  assert.match(row, /^http:\/\/very-l[^ ]*…[^ ]*\.com:8443 +healthy/);
  assert.ok(!row.includes(id));
});

Deno.test("render() drops table columns in the documented order as the width shrinks", () => {
  const { now, previous } = scene();
  const seen = new Set<number>();
  for (let width = 120; width >= 30; width--) {
    const shown = columnsShown(plain(now, width, 24, { paused: false, eventScroll: 0, previous }));
    const dropped = COLUMN_DROP_ORDER.filter((k) => !shown.includes(k));
    // What is gone is always a prefix of the drop order…
    assert.deepEqual(dropped, COLUMN_DROP_ORDER.slice(0, dropped.length), `width ${width}`);
    // …and URL, health and breaker are always there.
    assert.deepEqual(shown.slice(0, 3), ["url", "health", "breaker"]);
    seen.add(dropped.length);
  }
  // Every step of the order was passed through.
  for (let n = 0; n <= COLUMN_DROP_ORDER.length; n++) assert.ok(seen.has(n), `never ${n} dropped`);
  assert.deepEqual(COLUMN_DROP_ORDER.slice(0, 3), ["p50", "p99", "weight"]);
});

Deno.test("render() shows as many backends as fit and counts the rest", async (t) => {
  const backends = Array.from(
    { length: 20 },
    (_, i) => backend(i, i === 19 ? { health: "unhealthy", breaker: "open" } : {}),
  );
  const s = snapshot(0, { backends });

  await t.step("at 80×24 the event log keeps four events", () => {
    const lines = plain(s, 80, 24);
    const rows = lines.filter((l) => /^http:\/\/10\.0\.0\.\d+:\d+ /.test(l)).length;
    const more = lineWith(lines, "… and");
    const hidden = Number(/… and (\d+) more/.exec(more)![1]);
    assert.equal(rows + hidden, 20);
    assert.equal(rows, 10);
    assert.equal(more, "… and 10 more (1 unhealthy, 1 open)");
    assert.match(lineWith(lines, "── Events"), /1–4 of 4/);
  });

  await t.step("with one row left, the row summarises them all", () => {
    const lines = plain(s, 80, 6);
    assert.equal(lineWith(lines, "backends"), "20 backends (1 unhealthy, 1 open)");
  });

  await t.step("no backends at all says so", () => {
    assert.ok(plain(snapshot(0), 80, 24).includes("no backends configured"));
  });
});
