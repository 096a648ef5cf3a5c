/**
 * The web dashboard's stream, `GET /stream`, read with `fetch` from a real
 * Aegis: what the first message and the later ones carry, the token, the
 * cap on open streams, and how a stream ends when Aegis stops or the
 * client leaves.
 */

import assert from "node:assert/strict";
import {
  type HistoryPointView,
  MAX_DASHBOARD_STREAMS,
  type StatusView,
  STREAM_RETRY_MS,
} from "../../src/admin/mod.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { SseReader } from "../_helpers/sse.ts";

const TOKEN = "s3cret-admin-token-0123456789";

/** The first message. */
interface Hello {
  readonly refresh_ms: number;
  readonly time: number;
  readonly status: StatusView;
  readonly history: HistoryPointView[];
}

/** Every later message. */
interface Frame {
  readonly time: number;
  readonly status: StatusView;
  readonly point: HistoryPointView | null;
}

/** Two backends and an Aegis with frames every 100 ms. */
async function scene(overrides: Record<string, unknown> = {}) {
  const a = startBackend();
  const b = startBackend();
  const proxy = startTestAegis(
    await testConfig([a.url, b.url], {
      tui: { refresh_interval: "100ms" },
      rate_limit: { exempt: ["127.0.0.0/8"] },
      ...overrides,
    }),
  );
  return {
    a,
    b,
    proxy,
    /** Opens the stream; the body is the caller's to read or cancel. */
    open: (headers: Record<string, string> = {}) => fetch(`${proxy.adminUrl}/stream`, { headers }),
    async [Symbol.asyncDispose]() {
      await proxy.aegis.shutdown();
      await a.close();
      await b.close();
    },
  };
}

async function get(url: string): Promise<void> {
  const res = await fetch(url);
  await res.body?.cancel();
  assert.equal(res.status, 200, url);
}

Deno.test("GET /stream sends the history and a snapshot view first, then a frame every refresh", async () => {
  await using s = await scene();
  for (let i = 0; i < 4; i++) await get(`${s.proxy.url}/x`);
  const res = await s.open();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-store");
  await using events = new SseReader(res.body!);

  const first = await events.next();
  assert.equal(first?.event, "hello");
  assert.equal(first?.retry, STREAM_RETRY_MS, "the page is told when to reconnect");
  const hello: Hello = JSON.parse(first!.data);
  assert.equal(hello.refresh_ms, 100);
  assert.equal(typeof hello.time, "number");
  assert.deepEqual(hello.status.backends.map((b) => b.url), [s.a.url, s.b.url]);
  assert.equal(hello.status.global.requests, 4);
  assert.equal("config" in hello.status, false, "the configuration stays in /status");
  assert.ok(hello.history.length >= 1, "the history so far");
  assert.deepEqual(Object.keys(hello.history[0]!).sort(), [
    "connections",
    "error_share",
    "p95_ms",
    "rate_limited_per_second",
    "requests_per_second",
    "time",
  ]);

  for (let i = 0; i < 3; i++) await get(`${s.proxy.url}/x`);
  let frame: Frame = await events.json("frame");
  while (frame.status.global.requests < 7) {
    const next: Frame = await events.json("frame");
    assert.ok(next.time > frame.time, "each frame is a newer snapshot");
    frame = next;
  }
  assert.equal(frame.status.global.requests, 7, "requests sent after connecting are counted");
  // Points come about once a second: wait for one newer than the history sent.
  const newest = hello.history.at(-1)!.time;
  while (!(frame.point && frame.point.time > newest)) frame = await events.json("frame");
  assert.equal(typeof frame.point!.requests_per_second, "number");
});

Deno.test("GET /stream needs the admin token when one is set; the page's files do not", async () => {
  await using s = await scene({ admin: { token: TOKEN } });
  const wrong: Array<Record<string, string>> = [
    {},
    { authorization: "Bearer wrong-token-0123456789" },
    { authorization: `Basic ${TOKEN}` },
  ];
  for (const headers of wrong) {
    const refused = await s.open(headers);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("www-authenticate"), 'Bearer realm="aegis-admin"');
    assert.deepEqual(await refused.json(), { error: "unauthorized" });
  }
  const res = await s.open({ authorization: `Bearer ${TOKEN}` });
  assert.equal(res.status, 200);
  await using events = new SseReader(res.body!);
  const hello: Hello = await events.json("hello");
  assert.equal(hello.status.backends.length, 2);
  for (const path of ["/", "/dashboard.js", "/dashboard.css"]) {
    await get(`${s.proxy.adminUrl}${path}`);
  }
});

Deno.test(
  `at most ${MAX_DASHBOARD_STREAMS} streams are open at once, and the admin API still answers`,
  async () => {
    await using s = await scene();
    // HEAD answers the headers and opens no stream: these take no place.
    for (let i = 0; i < MAX_DASHBOARD_STREAMS; i++) {
      const head = await fetch(`${s.proxy.adminUrl}/stream`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-type"), "text/event-stream; charset=utf-8");
      assert.equal(await head.text(), "");
    }
    const open: SseReader[] = [];
    try {
      for (let i = 0; i < MAX_DASHBOARD_STREAMS; i++) {
        const res = await s.open();
        assert.equal(res.status, 200, `stream ${i + 1}`);
        open.push(new SseReader(res.body!));
        await open.at(-1)!.json("hello");
      }
      const refused = await s.open();
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get("retry-after"), String(STREAM_RETRY_MS / 1000));
      assert.deepEqual(await refused.json(), { error: "too many dashboard streams" });
      await get(`${s.proxy.adminUrl}/health`);

      // A client that leaves gives its place back.
      await open.shift()![Symbol.asyncDispose]();
      const deadline = Date.now() + 10_000;
      for (;;) {
        const res = await s.open();
        if (res.status === 200) {
          open.push(new SseReader(res.body!));
          break;
        }
        await res.body?.cancel();
        assert.ok(Date.now() < deadline, "a stream opens again once a client left");
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      for (const events of open) await events[Symbol.asyncDispose]();
    }
  },
);

Deno.test("a stream ends when Aegis stops, and the shutdown does not wait for its client", async () => {
  await using s = await scene();
  const res = await s.open();
  await using events = new SseReader(res.body!);
  await events.json("hello");
  // The client reads nothing more while Aegis stops.
  await s.proxy.aegis.shutdown();
  assert.ok(
    !s.proxy.logs.some((l) =>
      l.msg === "shutdown grace period over, closing remaining connections"
    ),
    "the admin listener closed without forcing the stream's connection",
  );
  await events.drain();
  assert.equal(await events.next(), undefined, "the stream has ended");
});
