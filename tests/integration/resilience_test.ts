/**
 * Fault injection with real backends, a real proxy and continuous client
 * load: Aegis keeps answering when a backend dies, lies about its health,
 * hangs, or comes back.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend, type TestBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { type LoadResult, shares, startLoad, until } from "../_helpers/load.ts";
import { readRequestHead, startRawBackend, waitForClose } from "../_helpers/raw.ts";

/** A backend that answers with its name in `x-backend`. */
function named(name: string, port = 0, status = (_path: string) => 200): TestBackend {
  return startBackend(
    (req) =>
      new Response(name, {
        status: status(new URL(req.url).pathname),
        headers: { "x-backend": name },
      }),
    port,
  );
}

const fast = {
  // The load comes from one address; limiting it is not what these tests are about.
  rate_limit: { exempt: ["127.0.0.0/8"] },
  health_check: {
    interval: "100ms",
    timeout: "80ms",
    unhealthy_threshold: 2,
    healthy_threshold: 2,
  },
  circuit_breaker: {
    failure_threshold: 3,
    success_threshold: 2,
    open_timeout: "10s",
    half_open_max_requests: 1,
  },
  upstream: { response_header_timeout: "300ms" },
};

function describe(results: readonly LoadResult[]): string {
  const by = shares(results);
  const statuses: Record<number, number> = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return `${results.length} requests; by backend ${JSON.stringify(by)}; by status ${
    JSON.stringify(statuses)
  }`;
}

Deno.test("a backend that dies costs clients nothing, and the others absorb its share", async () => {
  await using a = named("a");
  await using b = named("b");
  const c = named("c");
  await using proxy = startTestAegis(await testConfig([a.url, b.url, c.url], fast));
  const load = startLoad(proxy.url);
  try {
    await until(() => load.results.length >= 150, "warm-up traffic");
    assert.ok(shares(load.results).c! > 0, "c took traffic before it died");
    await c.close();
    await until(
      () =>
        proxy.aegis.events.recent().some((e) =>
          e.kind === "health" && e.fields.health === "unhealthy"
        ),
      "health checks mark c unhealthy",
    );
    const markTime = performance.now();
    const mark = load.results.length;
    await until(() => load.results.length >= mark + 300, "traffic after the health window");
    await load.stop();
    const errors = load.results.filter((r) => r.status !== 200);
    assert.equal(errors.length, 0, `clients saw errors: ${describe(load.results)}`);
    const after = load.results.filter((r) => r.sentAt > markTime);
    const s = shares(after);
    assert.equal(
      s.c ?? 0,
      0,
      `c still got traffic after being marked unhealthy: ${describe(after)}`,
    );
    assert.ok(
      Math.abs((s.a ?? 0) - (s.b ?? 0)) < after.length * 0.1,
      `a and b share c's part evenly: ${describe(after)}`,
    );
  } finally {
    await load.stop();
  }
});

Deno.test("a backend whose /health passes while real paths return 500 has its circuit opened", async () => {
  await using a = named("a");
  await using b = named("b", 0, (path) => (path === "/health" ? 200 : 500));
  await using proxy = startTestAegis(await testConfig([a.url, b.url], fast));
  const load = startLoad(proxy.url);
  try {
    await until(
      () => proxy.aegis.events.recent().some((e) => e.kind === "breaker" && e.fields.to === "open"),
      "b's breaker opens",
    );
    const markTime = performance.now();
    const mark = load.results.length;
    await until(() => load.results.length >= mark + 300, "traffic after the breaker opened");
    await load.stop();
    // Split by when a request was sent: some sent just before the breaker
    // opened come back after it did.
    const before = load.results.filter((r) => r.sentAt <= markTime);
    const after = load.results.filter((r) => r.sentAt > markTime);
    const fivesBefore = before.filter((r) => r.status === 500).length;
    assert.ok(
      fivesBefore >= 3,
      `clients saw b's 500s until the breaker opened: ${describe(before)}`,
    );
    assert.equal(
      after.filter((r) => r.status === 500).length,
      0,
      `500s stopped once the breaker opened: ${describe(after)}`,
    );
    assert.equal(
      after.filter((r) => r.backend === "b").length,
      0,
      `b got no more traffic: ${describe(after)}`,
    );
    const state = proxy.aegis.pool.states.find((s) => s.id === b.url)!;
    assert.equal(state.health.health, "healthy", "b still passes its health checks");
    assert.equal(state.breaker.state, "open");
  } finally {
    await load.stop();
  }
});

Deno.test("a backend that accepts but never answers gives 504s, then its breaker opens and it gets nothing", async () => {
  await using a = named("a");
  await using hung = startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await waitForClose(conn);
  });
  await using proxy = startTestAegis(
    await testConfig([a.url, hung.url], {
      ...fast,
      // Keep health checks out of it: this is the breaker's job on real traffic.
      health_check: { ...fast.health_check, interval: "1h", timeout: "1h" },
    }),
  );
  const load = startLoad(proxy.url);
  try {
    await until(
      () => proxy.aegis.events.recent().some((e) => e.kind === "breaker" && e.fields.to === "open"),
      "the hung backend's breaker opens",
    );
    const markTime = performance.now();
    const mark = load.results.length;
    await until(() => load.results.length >= mark + 300, "traffic after the breaker opened");
    await load.stop();
    const timeouts = load.results.filter((r) => r.status === 504);
    assert.ok(timeouts.length >= 3, `clients got 504s, not hangs: ${describe(load.results)}`);
    const slowest = Math.max(...timeouts.map((r) => r.ms));
    const after = load.results.filter((r) => r.sentAt > markTime);
    assert.ok(
      after.every((r) => r.status === 200),
      `after the breaker opened every request was served by a (the slowest 504 took ${
        slowest.toFixed(0)
      } ms against a 300 ms header timeout): ${describe(after)}`,
    );
  } finally {
    await load.stop();
  }
});

Deno.test("a dead backend that returns is warmed up back to its full share", async () => {
  await using a = named("a");
  await using b = named("b");
  const c = named("c");
  const port = c.port;
  await using proxy = startTestAegis(
    await testConfig([a.url, b.url, c.url], {
      ...fast,
      health_check: { ...fast.health_check, interval: "400ms", timeout: "200ms" },
      // c's breaker opens when it dies; it must be able to close again once c is back.
      circuit_breaker: { ...fast.circuit_breaker, open_timeout: "200ms" },
    }),
  );
  const load = startLoad(proxy.url, 6);
  let revived: TestBackend | undefined;
  try {
    await c.close();
    const events = () => proxy.aegis.events.recent().reverse();
    await until(() => events().some((e) => e.fields.health === "unhealthy"), "c marked unhealthy");
    revived = named("c", port);
    // Count c's share between successive warm-up steps: 25%, 50%, 75%, 100%.
    const marks: number[] = [];
    for (const percent of [25, 50, 75, 100]) {
      await until(
        () =>
          events().some((e) => e.fields.backend === c.url && e.fields.warmup_percent === percent),
        `c reaches ${percent}%`,
      );
      marks.push(load.results.length);
    }
    const last = load.results.length;
    await until(() => load.results.length >= last + 600, "traffic at full weight");
    marks.push(load.results.length);
    await load.stop();
    const stepShares = marks.slice(0, -1).map((m, i) => {
      const window = load.results.slice(m, marks[i + 1]);
      return (shares(window).c ?? 0) / Math.max(1, window.length);
    });
    const text = stepShares.map((s, i) => `${[25, 50, 75, 100][i]}%→${(s * 100).toFixed(1)}%`).join(
      ", ",
    );
    // With weights 1:1:1, c's expected share at fraction f is f / (2 + f): 11%, 20%, 27%, 33%.
    [0.25, 0.5, 0.75, 1].forEach((f, i) => {
      const expected = f / (2 + f);
      assert.ok(
        Math.abs(stepShares[i]! - expected) < 0.05,
        `c's share at ${f * 100}% warm-up is ${(stepShares[i]! * 100).toFixed(1)}%, expected ` +
          `${(expected * 100).toFixed(1)}% (all steps: ${text})`,
      );
    });
    assert.equal(load.results.filter((r) => r.status !== 200).length, 0, describe(load.results));
  } finally {
    await load.stop();
    await revived?.close();
  }
});
