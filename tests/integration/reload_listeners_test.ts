/**
 * Reloads that change listeners and routes while clients keep sending:
 * not one request may fail. Counts, never durations.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend, type TestBackend } from "../_helpers/backend.ts";
import { liveConfigFile } from "../_helpers/config.ts";
import { shares, startLoad, until } from "../_helpers/load.ts";

function named(name: string): TestBackend {
  return startBackend(() => new Response(name, { headers: { "x-backend": name } }));
}

/** One of two configurations the test swaps between: `main` always, `old` or `extra`. */
function topology(a: string, b: string, phase: "first" | "second") {
  const main = {
    name: "main",
    address: "127.0.0.1:0",
    routes: [{ pool: phase === "first" ? "a" : "b" }],
  };
  const other = {
    name: phase === "first" ? "old" : "extra",
    address: "127.0.0.1:0",
    routes: [{ pool: "a" }],
  };
  return {
    health_check: { interval: "1h" },
    // The load is one client, as fast as it goes: not what this test studies.
    rate_limit: { exempt: ["127.0.0.0/8"] },
    listeners: [main, other],
    pools: {
      a: { backends: [{ url: a, weight: 1 }] },
      b: { backends: [{ url: b, weight: 1 }] },
    },
  };
}

Deno.test("reloads that add a listener, remove one and move a route under load fail no request", async () => {
  await using a = named("a");
  await using b = named("b");
  await using file = await liveConfigFile(topology(a.url, b.url, "first"));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const main = proxy.aegis.listeners.get("main")!.url;
  const load = startLoad(main, 8);
  try {
    for (let i = 0; i < 10; i++) {
      const phase = i % 2 === 0 ? "second" : "first";
      const sent = load.results.length;
      await until(() => load.results.length >= sent + 20, "requests flow before the reload");
      await file.write(topology(a.url, b.url, phase));
      const result = await proxy.aegis.reload();
      assert.ok(result.ok, JSON.stringify(result));
      assert.deepEqual(
        result.listeners,
        phase === "second"
          ? { opened: ["extra"], closed: ["old"], moved: [] }
          : { opened: ["old"], closed: ["extra"], moved: [] },
      );
      // The new listener serves at once.
      const added = proxy.aegis.listeners.get(phase === "second" ? "extra" : "old")!;
      assert.equal(await (await fetch(added.url)).text(), "a");
      // The moved route takes the next requests.
      const want = phase === "second" ? "b" : "a";
      const mark = load.results.length;
      await until(
        () => load.results.slice(mark).some((r) => r.backend === want),
        `requests reach ${want}`,
      );
    }
  } finally {
    await load.stop();
  }
  const failed = load.results.filter((r) => r.status !== 200);
  assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 5))}`);
  const seen = shares(load.results);
  assert.ok((seen.a ?? 0) > 0 && (seen.b ?? 0) > 0, JSON.stringify(seen));
  assert.equal(a.received.length + b.received.length >= load.results.length, true);
});
