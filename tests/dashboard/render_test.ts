import assert from "node:assert/strict";
import stringWidth from "string-width";
import { render } from "../../src/dashboard/mod.ts";
import {
  backend,
  columnsShown,
  event,
  lineWith,
  manyEvents,
  plain,
  scene,
  snapshot,
  stripAnsi,
  TITLE_TO_KEY,
} from "./_fixtures.ts";

Deno.test("render() at 80×24 shows header, backends, limiter, events and footer", async (t) => {
  const { now, previous } = scene();
  const lines = plain(now, 80, 24, { paused: false, eventScroll: 0, previous });

  await t.step("exactly 24 lines, none wider than 80", () => {
    assert.equal(lines.length, 24);
    for (const l of lines) assert.ok(stringWidth(l) <= 80, l);
  });

  await t.step("header: version, uptime, address, req/s, in-flight, errors, rate", () => {
    assert.equal(lines[0], "Aegis 0.1.0 · up 1h02m03s · http://0.0.0.0:8080");
    // 300 requests in 2 s; in flight 1 + 2 + 3; 5xx 2 of 252 responses in the interval.
    assert.equal(lines[1], "req/s 150.0 · in-flight 6 · errors 0.8% · rate 100.0/s · conns 12");
  });

  await t.step("backends: every column, one row per backend, state words", () => {
    assert.match(lines[2]!, /^── Backends 2\/3 healthy · latency in ms ─+$/);
    assert.deepEqual(columnsShown(lines), Object.values(TITLE_TO_KEY));
    assert.match(
      lineWith(lines, "10.0.0.1:8081"),
      /healthy +closed +100% +1\/1 +1 +25\.0 +12 +48 +95 +0$/,
    );
    assert.match(
      lineWith(lines, "10.0.0.2:8082"),
      /healthy +half-open +75% +2\/2 +2 +50\.0 +13 +49 +96 +0$/,
    );
    assert.match(
      lineWith(lines, "10.0.0.3:8083"),
      /unhealthy +open +0% +0\/1 +3 +75\.0 +14 +50 +97 +17$/,
    );
  });

  await t.step("rate limiter: rate, bounds, burst, clients, 429/s, last change", () => {
    assert.match(lineWith(lines, "── Rate limiter"), /^── Rate limiter ─+$/);
    assert.equal(
      lineWith(lines, "burst"),
      "rate 100.0/s · min 10.0 · max 500.0 · burst 150 · clients 12/100k · 429/s 1.0",
    );
    assert.equal(
      lineWith(lines, "last change"),
      "last change 125.0 → 100.0 reduce (P95 612 ms) 42s ago",
    );
  });

  await t.step("events: newest first, UTC time, kind, message, cut with …", () => {
    const at = lines.findIndex((l) => l.startsWith("── Events"));
    assert.match(lines[at]!, /^── Events 1–4 of 4 ─+$/);
    assert.equal(lines[at + 1], "11:59:55 rate    rate 125 → 100 req/s (P95 612 ms, reduce)");
    assert.match(lines[at + 2]!, /^11:59:40 breaker circuit breaker closed for .*…$/);
    assert.equal(
      lines[at + 3],
      "11:58:55 health  http://10.0.0.3:8083 is unhealthy: 3 failed checks",
    );
    assert.equal(
      lines[at + 4],
      "11:00:00 reload  configuration reloaded: 0 added, 0 removed, 3 kept",
    );
    assert.equal(lines[at + 5], "");
  });

  await t.step("footer is the last line", () => {
    assert.equal(lines[23], "q quit · p pause · ↑↓ scroll events");
  });
});

Deno.test("render() at 200×60 shows every column, full URLs and fills the event log", () => {
  const { now, previous } = scene({
    events: manyEvents(80),
    backends: [
      backend(0, { id: "http://backend-with-a-rather-long-host-name.eu-west-1.internal:8443" }),
    ],
  });
  const lines = plain(now, 200, 60, { paused: false, eventScroll: 0, previous });
  assert.equal(lines.length, 60);
  for (const l of lines) assert.ok(stringWidth(l) <= 200);
  assert.deepEqual(columnsShown(lines), Object.values(TITLE_TO_KEY));
  assert.ok(lineWith(lines, "eu-west-1").startsWith("http://backend-with-a-rather-long-host-name"));
  // 60 − header 2 − backends 3 − limiter 3 − footer 1 − events title 1 = 50 events.
  assert.match(lineWith(lines, "── Events"), /1–50 of 80/);
  assert.equal(lines.filter((l) => /^\d\d:\d\d:\d\d health event \d+$/.test(l)).length, 50);
  assert.equal(lines[58], "11:59:11 health event 49");
  assert.equal(lines[59], "q quit · p pause · ↑↓ scroll events");
});

Deno.test("render() scrolls the event log to older events", async (t) => {
  const s = snapshot(3, { events: manyEvents(30) });
  const eventRows = (lines: string[]) =>
    lines.filter((l) => /^\d\d:\d\d:\d\d /.test(l)).map((l) => l.replace(/^.* event /, ""));

  await t.step("scroll 0 starts at the newest", () => {
    const lines = plain(s, 80, 24, { paused: false, eventScroll: 0 });
    assert.deepEqual(eventRows(lines), [
      "0",
      "1",
      "2",
      "3",
      "4",
      "5",
      "6",
      "7",
      "8",
      "9",
      "10",
      "11",
    ]);
    assert.match(lineWith(lines, "── Events"), /1–12 of 30/);
  });

  await t.step("scroll 10 starts ten events down and says so", () => {
    const lines = plain(s, 80, 24, { paused: false, eventScroll: 10 });
    assert.equal(eventRows(lines)[0], "10");
    assert.match(lineWith(lines, "── Events"), /11–22 of 30/);
  });

  await t.step("scrolling past the end keeps the last page full", () => {
    const rows = eventRows(plain(s, 80, 24, { paused: false, eventScroll: 500 }));
    assert.equal(rows.length, 12);
    assert.equal(rows.at(-1), "29");
  });

  await t.step("a negative or non-finite scroll is the top", () => {
    for (const eventScroll of [-3, NaN, -Infinity]) {
      assert.equal(eventRows(plain(s, 80, 24, { paused: false, eventScroll }))[0], "0");
    }
  });

  await t.step("no events says so", () => {
    assert.ok(plain(snapshot(3, { events: [] }), 80, 24).includes("no events yet"));
  });
});

Deno.test("render() marks paused and draining", async (t) => {
  await t.step("PAUSED in the header and leading the footer", () => {
    const lines = plain(snapshot(3), 80, 24, { paused: true, eventScroll: 0 });
    assert.equal(lines[0], "Aegis 0.1.0 PAUSED · up 1h02m03s · http://0.0.0.0:8080");
    assert.equal(lines[23], "PAUSED · q quit · p pause · ↑↓ scroll events");
  });

  await t.step("PAUSED survives a narrow terminal", () => {
    const lines = plain(snapshot(3), 20, 5, { paused: true, eventScroll: 0 });
    assert.match(lines[0]!, /^Aegis 0\.1\.0 PAUSED/);
    assert.match(lines[4]!, /^PAUSED/);
  });

  await t.step("DRAINING from the newest drain event, gone once drained", () => {
    const draining = [event(1, "drain", "draining started", { connections: 3 })];
    assert.match(
      plain(snapshot(3, { events: draining }), 80, 24)[0]!,
      /^Aegis 0\.1\.0 DRAINING · /,
    );
    const drained = [event(0, "drain", "drained"), ...draining];
    assert.doesNotMatch(plain(snapshot(3, { events: drained }), 80, 24)[0]!, /DRAINING/);
  });
});

Deno.test("render() colours with SGR codes only when asked", () => {
  const { now, previous } = scene();
  const view = { paused: true, eventScroll: 0, previous };
  const colored = render(now, { width: 80, height: 24, color: true }, view);
  const joined = colored.join("\n");
  assert.ok(joined.includes("\x1b[32mhealthy"));
  assert.ok(joined.includes("\x1b[31mopen"));
  assert.ok(joined.includes("\x1b[33mhalf-open"));
  for (const line of colored) {
    // Every escape is an SGR sequence, and a styled line ends reset.
    assert.equal(stripAnsi(line).includes("\x1b"), false, line);
    if (line.includes("\x1b")) assert.ok(line.endsWith("\x1b[0m"), JSON.stringify(line));
  }
  // The same text either way.
  assert.deepEqual(
    colored.map(stripAnsi),
    render(now, { width: 80, height: 24, color: false }, view),
  );
  assert.equal(
    render(now, { width: 80, height: 24, color: false }, view).join("").includes("\x1b"),
    false,
  );
});
