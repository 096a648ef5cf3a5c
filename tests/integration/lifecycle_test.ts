/**
 * startAegis() through its lifecycle: a start that fails part-way leaves
 * nothing running, and stop undoes the start in reverse, after draining the
 * public listener while everything behind it still runs.
 */

import assert from "node:assert/strict";
import { startAegis } from "../../src/app.ts";
import type { Config } from "../../src/config/mod.ts";
import type { ClosableTransport } from "../../src/core/mod.ts";
import type { Probe } from "../../src/health/mod.ts";
import { ADMIN_LISTENER, listenerOf } from "../../src/lifecycle/mod.ts";
import { transportFor } from "../../src/runtime/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { TimerTracker } from "../_helpers/timers.ts";

/** The configured transport, counting how often it is closed. */
function countedTransport(config: Config): ClosableTransport & { readonly disposed: number } {
  const real = transportFor(config.pools.default!);
  let disposed = 0;
  return {
    send: real.send,
    fetch: real.fetch,
    get disposed() {
      return disposed;
    },
    [Symbol.dispose]() {
      disposed++;
      real[Symbol.dispose]();
    },
  };
}

/** Health checks that answer at once without a connection: no probe is in flight at the failure. */
const healthy: Probe = () => Promise.resolve({ ok: true, detail: "200" });

/** Starts Aegis expecting a bind failure; returns the error and what was logged. */
function failedStart(config: Config, transport: ClosableTransport) {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: "debug",
    format: "json",
    sink: (line) => logs.push(JSON.parse(line)),
  });
  let error: unknown;
  try {
    startAegis(config, { transport, logger, probe: healthy });
  } catch (e) {
    error = e;
  }
  return { error, logs };
}

for (const listener of [ADMIN_LISTENER, "default"] as const) {
  Deno.test(`a start that fails on the ${listener} port undoes everything started before it: no timer, no socket, the transport closed once`, async () => {
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (taken.addr as Deno.NetAddr).port;
    const config = await testConfig(
      ["http://127.0.0.1:9"],
      listener === ADMIN_LISTENER
        ? { admin: { address: `127.0.0.1:${port}` } }
        : { server: { host: "127.0.0.1", port } },
    );
    const transport = countedTransport(config);
    using timers = new TimerTracker();
    const { error, logs } = failedStart(config, transport);
    assert.ok(error instanceof Deno.errors.AddrInUse, String(error));
    assert.equal(listenerOf(error), listener);
    await until(() => transport.disposed > 0, "the transport is closed");
    assert.equal(transport.disposed, 1);
    assert.equal(timers.count, 0, `timers left:\n${timers.sites().join("\n")}`);
    assert.ok(!logs.some((l) => l.msg === "Aegis listening"), "nothing announced");
    // Sockets: the sanitizers fail this test if a listener or an accept is left.
  });
}

Deno.test("stop drains the public listener first: the admin API answers and nothing is disposed until the last request is done", async () => {
  const gate = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  await using backend = startBackend(async (req) => {
    if (new URL(req.url).pathname === "/slow") {
      arrived.resolve();
      await gate.promise;
    }
    return new Response("done");
  });
  using _release = { [Symbol.dispose]: () => gate.resolve() };
  const config = await testConfig([backend.url], { server: { shutdown_timeout: "1m" } });
  const transport = countedTransport(config);
  await using proxy = startTestAegis(config, { transport });
  const inFlight = fetch(`${proxy.url}/slow`).then((r) => r.text());
  await arrived.promise;

  const stopping = proxy.aegis.shutdown();
  assert.equal(proxy.aegis.shutdown(), stopping, "one stop, however often asked");
  const health = await fetch(`${proxy.adminUrl}/health`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).draining, true, "the admin API answers during the drain");
  assert.equal(proxy.aegis.signal.aborted, false, "the loops run until the drain is over");
  assert.equal(transport.disposed, 0, "requests in progress still have their transport");

  gate.resolve();
  assert.equal(await inFlight, "done");
  await stopping;
  assert.equal(proxy.aegis.signal.aborted, true);
  assert.equal(transport.disposed, 1);
  await assert.rejects(fetch(`${proxy.adminUrl}/health`), "the admin listener is closed");
  const order = proxy.logs.map((l) => l.msg).filter((m) =>
    m === "shutting down" || m === "request" || m === "Aegis shutdown complete"
  );
  assert.deepEqual(order, ["shutting down", "request", "Aegis shutdown complete"]);
});

Deno.test("a stopped Aegis leaves no timer pending", async () => {
  await using backend = startBackend();
  const config = await testConfig([backend.url]);
  using timers = new TimerTracker();
  const proxy = startTestAegis(config);
  assert.equal(await (await fetch(proxy.url)).text(), "ok");
  await proxy.aegis.reload(); // refused (no file), but goes through the reloader
  await proxy.aegis.shutdown();
  assert.equal(timers.count, 0, `timers left:\n${timers.sites().join("\n")}`);
});
