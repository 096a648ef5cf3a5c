import assert from "node:assert/strict";
import {
  HEALTH_USER_AGENT,
  httpProbe,
  type ProbeResult,
  startHealthLoop,
} from "../../src/health/mod.ts";
import { fetchTransport } from "../../src/proxy/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";

Deno.test("startHealthLoop() probes at once, then every interval after the previous probe, until aborted", async () => {
  const clock = new ManualClock();
  const abort = new AbortController();
  const seen: number[] = [];
  const results: ProbeResult[] = [];
  const loop = startHealthLoop({
    baseUrl: "http://b.test",
    intervalMs: 1000,
    clock,
    probe: () => {
      seen.push(clock.now());
      return Promise.resolve({ ok: seen.length % 2 === 1, detail: `probe ${seen.length}` });
    },
    onResult: (r) => results.push(r),
    signal: abort.signal,
  });
  const settle = () => new Promise((r) => setTimeout(r, 0));
  await settle();
  assert.deepEqual(seen, [1000]);
  clock.advance(999);
  await settle();
  assert.equal(seen.length, 1, "not before the interval");
  clock.advance(1);
  await settle();
  clock.advance(1000);
  await settle();
  assert.deepEqual(seen, [1000, 2000, 3000]);
  assert.deepEqual(results.map((r) => r.ok), [true, false, true]);
  abort.abort();
  await loop;
  assert.equal(clock.pending, 0, "no timer left behind");
  clock.advance(5000);
  await settle();
  assert.equal(seen.length, 3);
});

Deno.test("httpProbe() sends GET path with the aegis-health-check User-Agent; 2xx and 3xx are healthy", async (t) => {
  let status = 200;
  let seen: { path: string; method: string; ua: string | null } | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen = {
      path: new URL(req.url).pathname,
      method: req.method,
      ua: req.headers.get("user-agent"),
    };
    if (status === 204) return new Response(null, { status });
    return status === 302
      ? new Response(null, { status, headers: { location: "/x" } })
      : new Response("x", { status });
  });
  using transport = fetchTransport();
  const probe = httpProbe(transport.fetch, "/healthz", 1000);
  const base = `http://127.0.0.1:${server.addr.port}`;
  for (
    const [code, ok] of [[200, true], [204, true], [302, true], [404, false], [500, false], [
      503,
      false,
    ]] as const
  ) {
    await t.step(`${code} → ${ok ? "healthy" : "unhealthy"}`, async () => {
      status = code;
      const r = await probe(base, new AbortController().signal);
      assert.equal(r.ok, ok, r.detail);
      assert.deepEqual(seen, { path: "/healthz", method: "GET", ua: HEALTH_USER_AGENT });
    });
  }
  await server.shutdown();
});

Deno.test("httpProbe() reports a refused connection and a timeout as unhealthy, never throwing", async () => {
  using transport = fetchTransport();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const refused = await httpProbe(transport.fetch, "/health", 1000)(
    `http://127.0.0.1:${port}`,
    new AbortController().signal,
  );
  assert.equal(refused.ok, false);
  assert.equal(refused.inconclusive, undefined, "a refused connection is the backend's answer");

  const hanging = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of hanging) held.push(c);
  })();
  const slow = await httpProbe(transport.fetch, "/health", 100)(
    `http://127.0.0.1:${hanging.addr.port}`,
    new AbortController().signal,
  );
  assert.deepEqual(slow, { ok: false, detail: "no answer within 100ms" });
  hanging.close();
  await accepting;
  for (const c of held) c.close();
});

Deno.test("httpProbe() calls a probe Aegis could not send for want of descriptors inconclusive", async () => {
  const emfile = () =>
    Promise.reject(
      new TypeError("fetch failed", {
        cause: new Error(
          "client error (Connect): tcp open error: Too many open files (os error 24)",
        ),
      }),
    );
  const result = await httpProbe(emfile, "/health", 1000)(
    "http://b.test",
    new AbortController().signal,
  );
  assert.equal(result.ok, false);
  assert.equal(result.inconclusive, true, "it says nothing about the backend");
  assert.match(result.detail, /fetch failed/);
});
