import assert from "node:assert/strict";
import { backend, lineWith, NOW, plain, snapshot } from "./_fixtures.ts";

Deno.test("render() computes per-second figures from the previous snapshot", async (t) => {
  await t.step("req/s and 429/s over the time between the snapshots", () => {
    const previous = snapshot(1, { time: NOW - 4000, requests: 1000, rateLimited: 10 });
    const now = snapshot(1, { requests: 1500, rateLimited: 30 });
    const lines = plain(now, 100, 24, { paused: false, eventScroll: 0, previous });
    assert.match(lines[1]!, /^req\/s 125\.0 · /);
    assert.match(lineWith(lines, "burst"), /429\/s 5\.0$/);
  });

  await t.step("per backend, matched by id", () => {
    const previous = snapshot(0, {
      time: NOW - 1000,
      backends: [backend(1, { requests: 100 }), backend(0, { requests: 10 })],
    });
    const now = snapshot(0, {
      backends: [backend(0, { requests: 13 }), backend(1, { requests: 250 })],
    });
    const lines = plain(now, 100, 24, { paused: false, eventScroll: 0, previous });
    assert.match(lineWith(lines, "10.0.0.1:8081"), / 3\.0 /);
    assert.match(lineWith(lines, "10.0.0.2:8082"), / 150\.0 /);
  });

  await t.step("first frame: rates show –, the 5xx share is taken since start", () => {
    const lines = plain(snapshot(3), 80, 24);
    assert.equal(lines[1], "req/s – · in-flight 6 · errors 1.0% · rate 100.0/s · conns 12");
    assert.match(lineWith(lines, "10.0.0.1:8081"), / – /);
    assert.match(lineWith(lines, "burst"), /429\/s –$/);
  });

  await t.step("open WebSocket sessions show as ws N, only while there are any", () => {
    const open = [
      { listener: "default", pool: "chat", open: 2 },
      { listener: "default", pool: "feed", open: 1 },
    ];
    const lines = plain(snapshot(3, { websocket: { open, pools: [] } }), 100, 24);
    assert.match(lines[1]!, / · conns 12 · ws 3$/);
    const none = open.map((o) => ({ ...o, open: 0 }));
    assert.doesNotMatch(
      plain(snapshot(3, { websocket: { open: none, pools: [] } }), 100, 24)[1]!,
      /ws/,
    );
  });

  await t.step("a counter that went back (backend re-added) shows –, never a negative rate", () => {
    const previous = snapshot(1, { time: NOW - 1000, backends: [backend(0, { requests: 900 })] });
    const now = snapshot(1, { backends: [backend(0, { requests: 5 })] });
    const row = lineWith(plain(now, 100, 24, { paused: false, eventScroll: 0, previous }), ":8081");
    assert.match(row, / – /);
    assert.doesNotMatch(row, /-\d/);
  });

  await t.step("the adaptive rate has one decimal", () => {
    assert.match(plain(snapshot(1, { rate: 87.654 }), 80, 24)[1]!, /rate 87\.7\/s/);
  });
});

Deno.test("render() shows the last rate change and how long ago", async (t) => {
  await t.step("a recovery three minutes ago", () => {
    const s = snapshot(1, {
      lastChange: { from: 100, to: 110, p95: 120.4, reason: "recover", time: NOW - 185_000 },
    });
    assert.equal(
      lineWith(plain(s, 80, 24), "last change"),
      "last change 100.0 → 110.0 recover (P95 120 ms) 3m05s ago",
    );
  });

  await t.step("no change yet", () => {
    const s = snapshot(1, { lastChange: null });
    assert.equal(lineWith(plain(s, 80, 24), "last change"), "last change no change yet");
  });
});
