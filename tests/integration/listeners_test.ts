/**
 * Several listeners in one process, over real sockets: each with its own
 * limits, and changed live by reloads that open, close and move them, or
 * refused whole when one cannot bind.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend, type TestBackend } from "../_helpers/backend.ts";
import { liveConfigFile, parseTestConfig } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";

function named(name: string): TestBackend {
  return startBackend(() => new Response(name, { headers: { "x-backend": name } }));
}

/** Health checks that stay out of the way. */
const quiet = { health_check: { interval: "1h" } };

/** A listener on a free loopback port, routing everything to `pool`. */
function listener(name: string, pool: string, extra: Record<string, unknown> = {}) {
  return { name, address: "127.0.0.1:0", routes: [{ pool }], ...extra };
}

Deno.test("two listeners, two sets of limits: body size and rate limit are each listener's own", async () => {
  await using a = named("a");
  const config = await parseTestConfig({
    ...quiet,
    listeners: [
      listener("strict", "p", {
        max_body_bytes: 100,
        // One token per 1000 s: nothing refills while the test runs.
        rate_limit: { requests_per_second: 0.001, burst: 3 },
        adaptive: { min_rate: 0.001 },
      }),
      listener("open", "p"),
    ],
    pools: { p: { backends: [{ url: a.url, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  const url = (name: string) => proxy.aegis.listeners.get(name)!.url;
  const post = async (name: string) => {
    const res = await fetch(url(name), { method: "POST", body: "x".repeat(1000) });
    await res.body?.cancel();
    return res.status;
  };
  assert.equal(await post("strict"), 413);
  assert.equal(await post("open"), 200);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await fetch(url("strict"));
    await res.body?.cancel();
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429], "a burst of 3 (validation comes first)");
  for (let i = 0; i < 5; i++) {
    const res = await fetch(url("open"));
    await res.body?.cancel();
    assert.equal(res.status, 200, "the other listener's clients are not limited by it");
  }
  // Each listener's traffic, counted apart, under the seed's names with a label.
  const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
  assert.match(metrics, /^proxy_requests_total\{listener="strict"\} 6$/m);
  assert.match(metrics, /^proxy_requests_total\{listener="open"\} 6$/m);
  assert.match(metrics, /^proxy_rate_limited_total\{listener="strict"\} 2$/m);
  assert.match(metrics, /^proxy_rate_limited_total\{listener="open"\} 0$/m);
  assert.match(
    metrics,
    /^proxy_requests_rejected_total\{listener="strict",reason="body_too_large"\} 1$/m,
  );
  const status = await (await fetch(`${proxy.adminUrl}/status`)).json();
  assert.deepEqual(
    status.listeners.map((l: { name: string; requests: number }) => [l.name, l.requests]),
    [["strict", 6], ["open", 6]],
  );
});

Deno.test("a reload opens a listener, closes one and moves one; the moved one finishes what it was serving", async () => {
  await using fast = named("fast");
  let release: () => void = () => {};
  const held = new Promise<void>((r) => release = r);
  await using slow = startBackend(async () => {
    await held;
    return new Response("slow");
  });
  const pools = {
    fast: { backends: [{ url: fast.url, weight: 1 }] },
    slow: { backends: [{ url: slow.url, weight: 1 }] },
  };
  await using file = await liveConfigFile({
    ...quiet,
    listeners: [listener("stay", "fast"), listener("leave", "fast"), listener("move", "slow")],
    pools,
  });
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const before = new Map([...proxy.aegis.listeners].map(([name, l]) => [name, l.url]));
  // A request in flight on the listener that moves.
  const inFlight = fetch(before.get("move")!).then(async (r) => `${r.status} ${await r.text()}`);
  await until(() => slow.received.length === 1, "the slow request reached its backend");

  await file.write({
    ...quiet,
    listeners: [
      listener("stay", "fast"),
      listener("move", "slow", { address: "127.0.0.2:0" }),
      listener("new", "fast"),
    ],
    pools,
  });
  const result = await proxy.aegis.reload();
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.listeners, { opened: ["new"], closed: ["leave"], moved: ["move"] });
  const after = proxy.aegis.listeners;
  assert.deepEqual([...after.keys()], ["stay", "move", "new"]);
  assert.equal(after.get("stay")!.url, before.get("stay"), "a kept listener keeps its socket");
  assert.match(after.get("move")!.url, /^http:\/\/127\.0\.0\.2:\d+$/);

  assert.equal(await (await fetch(after.get("new")!.url)).text(), "fast");
  release();
  assert.equal(await inFlight, "200 slow", "the old socket served its request to the end");
  assert.equal(await (await fetch(after.get("move")!.url)).text(), "slow");
  // The old sockets close once drained: connecting there is refused.
  for (const gone of [before.get("leave")!, before.get("move")!]) {
    await until(() => !proxy.aegis.snapshot().listeners.some((l) => l.url === gone), "gone");
    const { port } = new URL(gone);
    await until(() => {
      try {
        Deno.listen({ hostname: "127.0.0.1", port: Number(port) }).close();
        return true;
      } catch {
        return false;
      }
    }, `${gone} is free again`);
  }
});

Deno.test("a reload that cannot bind one listener opens none, and the old listeners keep serving", async () => {
  await using a = named("a");
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const pools = { p: { backends: [{ url: a.url, weight: 1 }] } };
  await using file = await liveConfigFile({ ...quiet, listeners: [listener("web", "p")], pools });
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const web = proxy.aegis.listeners.get("web")!.url;

  await file.write({
    ...quiet,
    listeners: [
      listener("web", "p"),
      listener("extra", "p"),
      listener("clash", "p", { address: `127.0.0.1:${port}` }),
    ],
    pools,
  });
  const result = await proxy.aegis.reload();
  assert.deepEqual(result, {
    ok: false,
    problems: [
      `listeners[clash]: cannot listen on 127.0.0.1:${port}: address already in use; nothing changed`,
    ],
  });
  assert.deepEqual([...proxy.aegis.listeners.keys()], ["web"], "extra was not left open");
  assert.equal(proxy.aegis.config.listeners.length, 1, "the old configuration is in force");
  assert.equal(await (await fetch(web)).text(), "a");
  assert.ok(proxy.logs.some((l) => l.msg === "reload refused: the running configuration stays"));
});
