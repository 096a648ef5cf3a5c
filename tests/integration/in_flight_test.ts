/**
 * Over real sockets: however a request ends, the backend it went to gets its
 * in-flight count back exactly ONCE, and its circuit breaker counts a
 * failure only when the backend failed, ONCE. Breakers here open on the
 * second failure in a row, so a failure counted twice would open one.
 */

import assert from "node:assert/strict";
import { attemptCounts, ONCE } from "../_helpers/attempts.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { readRequestHead, startRawBackend } from "../_helpers/raw.ts";

/** Health checks far apart and a breaker that opens on a double count. */
const settings = {
  health_check: { interval: "1h", timeout: "1h" },
  circuit_breaker: { failure_threshold: 2, open_timeout: "1h" },
};

Deno.test(
  "a client that hangs up mid-body gives its backend's attempt back ONCE, blaming nobody",
  async () => {
    let cancelled!: () => void;
    const backendLetGo = new Promise<void>((resolve) => (cancelled = resolve));
    // A body that sends one chunk, then waits until it is cancelled.
    await using backend = startBackend(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array(1024).fill(0x61));
          },
          pull: () => backendLetGo,
          cancel() {
            cancelled();
          },
        }),
      )
    );
    await using proxy = startTestAegis(await testConfig([backend.url], settings));
    const state = proxy.aegis.pool.states[0]!;
    const res = await fetch(proxy.url);
    const reader = res.body!.getReader();
    assert.ok((await reader.read()).value, "the first chunk arrives");
    assert.equal(state.stats.inFlight, 1, "the body is still streaming");
    await reader.cancel();
    await until(() => state.stats.inFlight === 0, "the attempt ended");
    await backendLetGo;
    await until(() => proxy.accessLogs().length === 1, "the access log line");
    assert.deepEqual(attemptCounts(state), ONCE);
    assert.equal(proxy.accessLogs()[0]!.outcome, "client_closed");
  },
);

Deno.test("a backend that breaks its body mid-stream is blamed ONCE", async () => {
  // Declares a megabyte (so the body streams), sends a few bytes, closes.
  await using broken = startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await conn.write(
      new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial"),
    );
  });
  await using proxy = startTestAegis(await testConfig([broken.url], settings));
  const state = proxy.aegis.pool.states[0]!;
  const res = await fetch(proxy.url);
  assert.equal(res.status, 200);
  await assert.rejects(res.text());
  await until(() => state.stats.inFlight === 0, "the attempt ended");
  assert.deepEqual(attemptCounts(state), { ...ONCE, errors: 1, failuresInARow: 1 });
});

Deno.test("a retried request gives back each backend's attempt ONCE", async () => {
  const gone = startBackend();
  await gone.close();
  await using live = startBackend();
  await using proxy = startTestAegis(
    await testConfig([gone.url, live.url], {
      ...settings,
      // The dead backend comes first in the smooth round-robin cycle.
      backends: [{ url: gone.url, weight: 2 }, { url: live.url, weight: 1 }],
    }),
  );
  const res = await fetch(proxy.url);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "ok");
  const [dead, alive] = proxy.aegis.pool.states;
  await until(() => alive!.stats.inFlight === 0, "the second attempt ended");
  assert.deepEqual(attemptCounts(dead!), { ...ONCE, errors: 1, failuresInARow: 1 });
  assert.deepEqual(attemptCounts(alive!), ONCE);
});
