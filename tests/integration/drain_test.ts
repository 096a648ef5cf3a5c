/**
 * Draining and shutting down under keep-alive load: clients sending requests
 * back to back must never have a request fail on a connection they reuse.
 * While draining, responses carry `Connection: close`, and an idle
 * connection gets a short grace in which a request already on its way is
 * still answered, before it is closed.
 */

import assert from "node:assert/strict";
import { DRAIN_IDLE_GRACE_MS } from "../../src/server/mod.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { spawnAegis } from "../_helpers/cli.ts";
import { testConfig, writeConfigFile } from "../_helpers/config.ts";
import { KeepAliveConn, keepAliveLoad } from "../_helpers/keepalive.ts";

/** The production grace: the test helper shortens it everywhere else. */
const REAL_GRACE = { drainIdleGraceMs: DRAIN_IDLE_GRACE_MS };

const CLIENTS = 24;
/** Responses before the drain starts, so every connection is being reused. */
const WARM = 20 * CLIENTS;

/** Starts the load, and resolves `warm` once the clients have been served a while. */
function loadUntilWarm(port: number) {
  const warm = Promise.withResolvers<void>();
  const outcome = keepAliveLoad(port, {
    clients: CLIENTS,
    onResponse: (n) => n >= WARM && warm.resolve(),
  });
  return { outcome, warm: warm.promise };
}

for (const how of ["Aegis.shutdown()", "POST /drain"] as const) {
  Deno.test(`${how} under keep-alive load: no request fails on a reused connection`, async () => {
    await using backend = startBackend();
    await using proxy = startTestAegis(await testConfig([backend.url]), REAL_GRACE);
    const { outcome, warm } = loadUntilWarm(proxy.port);
    await warm;
    if (how === "POST /drain") {
      const res = await fetch(`${proxy.adminUrl}/drain`, { method: "POST" });
      assert.equal(res.status, 202);
      await res.body?.cancel();
    } else {
      await proxy.aegis.shutdown();
    }
    const result = await outcome;
    assert.equal(result.reusedConnectionErrors, 0, JSON.stringify(result));
    assert.ok(result.responses >= WARM);
    assert.ok(result.closeAnnounced >= 1, "the last responses said Connection: close");
    assert.equal(proxy.aegis.server.connections, 0, "every connection closed");
  });
}

Deno.test("SIGTERM to the aegis process under keep-alive load: no request fails on a reused connection", async () => {
  await using backend = startBackend();
  const path = await writeConfigFile({
    server: { host: "127.0.0.1", port: 0 },
    backends: [{ url: backend.url, weight: 1 }],
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
    rate_limit: { exempt: ["127.0.0.0/8"] },
  });
  await using aegis = await spawnAegis(path, ["--headless"]);
  const { outcome, warm } = loadUntilWarm(aegis.port);
  await warm;
  aegis.kill("SIGTERM");
  const result = await outcome;
  assert.equal((await aegis.status).code, 0);
  assert.equal(result.reusedConnectionErrors, 0, JSON.stringify(result));
  assert.ok(result.closeAnnounced >= 1, "the last responses said Connection: close");
  await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
});

Deno.test("a request sent on an idle connection just after the drain began is answered with Connection: close", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]), REAL_GRACE);
  using idle = await KeepAliveConn.open(proxy.port);
  assert.equal((await idle.get("/")).close, false);
  proxy.aegis.drain();
  const late = await idle.get("/");
  assert.equal(late.status, 200);
  assert.equal(late.close, true);
  const res = await idle.read().then(() => "another response", (e: unknown) => e);
  assert.ok(res instanceof Deno.errors.UnexpectedEof, "then the connection is closed");
});

Deno.test("an idle connection is closed once the drain grace ends", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]), REAL_GRACE);
  using idle = await KeepAliveConn.open(proxy.port);
  await idle.get("/");
  proxy.aegis.drain();
  const closed = await idle.read().then(() => false, () => true);
  assert.ok(closed, "closed without a response");
  for (let i = 0; i < 500 && proxy.aegis.server.connections > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(proxy.aegis.server.connections, 0);
});
