import assert from "node:assert/strict";
import stringWidth from "string-width";
import { render } from "../../src/dashboard/mod.ts";
import type { Snapshot } from "../../src/snapshot/mod.ts";
import { backend, event, NOW, snapshot, stripAnsi } from "./_fixtures.ts";

/** Backends and events with text that is long, wide, combining, or hostile. */
function nasty(n: number): Snapshot {
  const ids = [
    "http://very-long-backend-host-name-for-the-eu-west-1-region.internal.example.com:8443/api/v1",
    "http://日本語のホスト名.example.jp:8080",
    "http://[2001:db8:85a3::8a2e:370:7334]:9000",
    "https://emoji-👩🏽‍💻-host.example:443",
    "http://e\u0301to\u0301ile.example:80",
    "http://evil\x1b[2J\x1b[31m.example:81\n",
    "not a url at all, just a name with spaces",
  ];
  const backends = Array.from({ length: n }, (_, i) =>
    backend(i, {
      id: `${ids[i % ids.length]}${i >= ids.length ? `#${i}` : ""}`,
      health: i % 3 === 2 ? "unhealthy" : "healthy",
      breaker: i % 4 === 1 ? "half_open" : i % 5 === 4 ? "open" : "closed",
      warmupPercent: i % 6 === 3 ? 50 : undefined,
      requests: 123_456_789 * i,
      errors: i * 9_999,
      latency: [0.4 * i, 1234.5 * i, 99_999 * i],
    }));
  return snapshot(0, {
    backends,
    events: [
      event(1, "breaker", "開いた: ブレーカーが開きました — 全角テキストがとても長いメッセージ", {
        to: "open",
      }),
      event(2, "health", "emoji 👍🏽👨‍👩‍👧‍👦 and combining e\u0301 and tabs\tand\nnewlines"),
      event(3, "a-very-long-event-kind-name", "escape \x1b]0;title\x07 and \u202e bidi override"),
      event(4, "", ""),
      event(5, "rate", "x".repeat(500)),
    ],
    lastChange: { from: 1e9, to: 0.01, p95: 1e7, reason: "reduce", time: NOW - 90_000_000 },
  });
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function check(s: Snapshot, width: number, height: number, previous?: Snapshot): void {
  for (const color of [false, true]) {
    const where = `${width}×${height}, ${s.backends.length} backends, color ${color}`;
    const lines = render(s, { width, height, color }, { paused: true, eventScroll: 2, previous });
    assert.equal(lines.length, height, where);
    for (const line of lines) {
      const text = stripAnsi(line);
      assert.ok(stringWidth(text) <= width, `${where}: ${JSON.stringify(text)}`);
      assert.ok(!CONTROL.test(text), `${where}: control character in ${JSON.stringify(text)}`);
      if (!color) assert.equal(line, text, where);
    }
  }
}

Deno.test("render() returns exactly `height` lines, none wider than `width`, at any size", async (t) => {
  const widths = new Set([1, 2, 3, 4, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 79, 80, 81, 100, 200]);
  for (let w = 1; w <= 220; w += 13) widths.add(w);
  const heights = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 60]);
  for (let h = 1; h <= 70; h += 9) heights.add(h);
  for (const n of [0, 1, 3, 20]) {
    await t.step(`${n} backends, realistic`, () => {
      const s = snapshot(n);
      const previous = snapshot(n, { time: NOW - 1000, requests: 5000 });
      for (const w of widths) for (const h of heights) check(s, w, h, previous);
    });
    await t.step(`${n} backends, long, wide and hostile text`, () => {
      const s = nasty(n);
      const previous = { ...s, time: NOW - 3000, backends: s.backends.slice(1) };
      for (const w of widths) for (const h of heights) check(s, w, h, previous);
    });
  }
});

Deno.test("render() handles degenerate sizes without throwing", async (t) => {
  const s = snapshot(3);
  await t.step("height ≤ 0 gives no lines", () => {
    for (const height of [0, -1, -100, NaN, -Infinity]) {
      assert.deepEqual(render(s, { width: 80, height, color: true }), []);
    }
  });

  await t.step("width ≤ 0 gives `height` empty strings", () => {
    for (const width of [0, -1, NaN]) {
      assert.deepEqual(render(s, { width, height: 3, color: true }), ["", "", ""]);
    }
  });

  await t.step("fractional sizes are floored", () => {
    const lines = render(s, { width: 40.9, height: 7.5, color: false });
    assert.equal(lines.length, 7);
    for (const l of lines) assert.ok(stringWidth(l) <= 40);
  });

  await t.step("absurd sizes are capped instead of exhausting memory", () => {
    assert.deepEqual(render(s, { width: 80, height: Infinity, color: false }), []);
    assert.equal(render(s, { width: 80, height: 1e12, color: false }).length, 10_000);
  });
});

Deno.test("render() gives way panel by panel as the terminal gets shorter", () => {
  const s = snapshot(3, {
    events: Array.from({ length: 40 }, (_, i) => event(i, "rate", `e${i}`)),
  });
  const shape = (height: number) => {
    const lines = render(s, { width: 80, height, color: false });
    return {
      events: lines.filter((l) => / rate +e\d+$/.test(l)).length,
      eventTitle: lines.some((l) => l.startsWith("── Events")),
      limiterLines: lines.some((l) => l.startsWith("── Rate limiter"))
        ? 3
        : lines.some((l) => l.startsWith("limit "))
        ? 1
        : 0,
      headerLines: lines[1]?.startsWith("req/s") ? 2 : 1,
      backendRows: lines.filter((l) => /^http:\/\/10\.0\.0\.\d:\d+ /.test(l)).length,
      footer: lines.at(-1)!.includes("q quit"),
    };
  };
  // Full: 2 header + 2 table chrome + 3 rows + 3 limiter + 1 footer = 11, plus the events.
  assert.deepEqual(shape(24), {
    events: 12,
    eventTitle: true,
    limiterLines: 3,
    headerLines: 2,
    backendRows: 3,
    footer: true,
  });
  // 1. the event log shrinks, then goes.
  assert.equal(shape(14).events, 2);
  assert.equal(shape(13).events, 1);
  assert.deepEqual(shape(12), { ...shape(11), events: 0 });
  assert.deepEqual(shape(11), {
    events: 0,
    eventTitle: false,
    limiterLines: 3,
    headerLines: 2,
    backendRows: 3,
    footer: true,
  });
  // 2. the limiter collapses to one line.
  assert.deepEqual(shape(10), {
    events: 0,
    eventTitle: false,
    limiterLines: 1,
    headerLines: 2,
    backendRows: 3,
    footer: true,
  });
  // 3. the header collapses to one line.
  assert.deepEqual(shape(8), {
    events: 0,
    eventTitle: false,
    limiterLines: 1,
    headerLines: 1,
    backendRows: 3,
    footer: true,
  });
  assert.equal(shape(7).backendRows, 1); // and "… and 2 more"
  // 4. backend rows shrink, then the last pieces go one by one.
  assert.deepEqual(shape(6), {
    events: 0,
    eventTitle: false,
    limiterLines: 1,
    headerLines: 1,
    backendRows: 0,
    footer: true,
  });
  assert.equal(shape(4).limiterLines, 0);
  assert.equal(shape(3).footer, false);
  assert.deepEqual(render(s, { width: 80, height: 1, color: false }), [
    "Aegis 0.1.0 · up 1h02m03s · req/s – · errors 1.0% · rate 100.0/s",
  ]);
});
