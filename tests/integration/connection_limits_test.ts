/**
 * `server.max_connections` and `server.max_connections_per_client` over real
 * sockets: past a limit a new connection is closed at once and counted,
 * while connections already open keep being served; a closed connection
 * gives its slot back.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { until } from "../_helpers/load.ts";
import { stringify } from "yaml";
import { loadConfigFile } from "../../src/config/mod.ts";
import { testConfig, withTestTransport, writeConfigFile } from "../_helpers/config.ts";
import { KeepAliveConn } from "../_helpers/keepalive.ts";
import { connect, rawGet, readUntilClose, send } from "../_helpers/raw.ts";

/** Opens a keep-alive connection and has it answer one request, so it is surely admitted. */
async function established(port: number): Promise<KeepAliveConn> {
  const conn = await KeepAliveConn.open(port);
  const res = await conn.get("/");
  assert.equal(res.status, 200);
  return conn;
}

/** A new connection that sends a request: refused means closed with nothing sent back. */
async function attempt(port: number) {
  const conn = await connect(port);
  await send(conn, rawGet("/")).catch(() => {});
  return await readUntilClose(conn, 3000);
}

Deno.test("past server.max_connections a new connection is closed at once and counted, while open ones keep answering", async (t) => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { max_connections: 3 } }),
  );
  const open = [
    await established(proxy.port),
    await established(proxy.port),
    await established(proxy.port),
  ];
  try {
    await t.step("the fourth connection is closed without an answer", async () => {
      const refused = await attempt(proxy.port);
      assert.ok(refused.closed);
      assert.equal(refused.text, "", "no HTTP work was done on it");
      await until(
        () => proxy.aegis.server.rejected.max_connections === 1,
        "the refusal is counted",
      );
      assert.equal(proxy.aegis.server.rejected.per_client, 0);
      assert.equal(proxy.aegis.server.connections, 3);
    });
    await t.step("the established keep-alive connections still answer", async () => {
      for (const conn of open) assert.equal((await conn.get("/")).status, 200);
    });
    await t.step("/status and /metrics show the limit and the refusal", async () => {
      const status = await (await fetch(`${proxy.adminUrl}/status`)).json();
      assert.deepEqual(status.connections, {
        max_connections: 3,
        max_connections_per_client: 256,
        rejected: { max_connections: 1, per_client: 0, denied: 0, rate_limited: 0 },
        accept_errors: 0,
      });
      const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      assert.match(
        metrics,
        /^proxy_connections_rejected_total\{listener="default",reason="max_connections"\} 1$/m,
      );
      assert.match(metrics, /^proxy_max_connections\{listener="default"\} 3$/m);
    });
    await t.step("a closed connection frees its slot", async () => {
      open.pop()![Symbol.dispose]();
      await until(() => proxy.aegis.server.connections === 2, "the slot is given back");
      open.push(await established(proxy.port));
      assert.equal(proxy.aegis.server.rejected.max_connections, 1, "nothing more refused");
    });
  } finally {
    for (const conn of open) conn[Symbol.dispose]();
  }
});

Deno.test("past server.max_connections_per_client a client's new connection is closed and counted; its open ones keep answering", async (t) => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      server: { max_connections: 100, max_connections_per_client: 2 },
    }),
  );
  const open = [await established(proxy.port), await established(proxy.port)];
  try {
    await t.step("a third connection from the same address is closed unanswered", async () => {
      const refused = await attempt(proxy.port);
      assert.ok(refused.closed);
      assert.equal(refused.text, "");
      await until(
        () => proxy.aegis.server.rejected.per_client === 1,
        "counted as per_client",
      );
      assert.equal(proxy.aegis.server.rejected.max_connections, 0);
    });
    await t.step("the client's open connections still answer", async () => {
      for (const conn of open) assert.equal((await conn.get("/")).status, 200);
    });
    await t.step("closing one lets the client open another", async () => {
      open.pop()![Symbol.dispose]();
      await until(() => proxy.aegis.server.connections === 1, "the slot is given back");
      open.push(await established(proxy.port));
    });
    await t.step("the refusal is logged once, with its reason and the limits in force", () => {
      const lines = proxy.logs.filter((l) => l.msg === "connections refused: limit reached");
      assert.equal(lines.length, 1);
      const { time: _, ...fields } = lines[0]!;
      assert.deepEqual(fields, {
        level: "warn",
        msg: "connections refused: limit reached",
        refused: 1,
        reason: "per_client",
        open: 2,
        max_connections: 100,
        max_connections_per_client: 2,
      });
    });
  } finally {
    for (const conn of open) conn[Symbol.dispose]();
  }
});

Deno.test("a reload lowers the connection limits for new connections; open ones keep answering", async () => {
  await using backend = startBackend();
  const data = (max: number) => ({
    server: { host: "127.0.0.1", port: 0, max_connections: max },
    backends: [{ url: backend.url, weight: 1 }],
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
  });
  const path = await writeConfigFile(data(100));
  const loaded = await loadConfigFile(path);
  assert.ok(loaded.ok);
  await using proxy = startTestAegis(loaded.config, { configPath: path });
  using a = await established(proxy.port);
  using b = await established(proxy.port);
  await Deno.writeTextFile(path, stringify(withTestTransport(data(1))));
  const reloaded = await proxy.aegis.reload();
  assert.ok(reloaded.ok, JSON.stringify(reloaded));
  assert.equal(proxy.aegis.server.limits.maxConnections, 1);
  const refused = await attempt(proxy.port);
  assert.ok(refused.closed);
  assert.equal(refused.text, "");
  assert.equal((await a.get("/")).status, 200, "open connections are not cut");
  assert.equal((await b.get("/")).status, 200);
  await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
});

Deno.test("server.max_connections: auto is resolved at start and logged", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]), { descriptorLimit: 10_000 });
  const listening = proxy.logs.find((l) => l.msg === "Aegis listening")!;
  // 10 000 − (64 process + 64 admin + 1 health) − 1 × 512 for the backend pool.
  assert.equal(listening.max_connections, 10_000 - 129 - 512);
  assert.equal(listening.max_connections_per_client, 256);
  assert.equal(listening.descriptor_limit, 10_000);
  assert.equal(proxy.aegis.server.limits.maxConnections, 10_000 - 129 - 512);
});

Deno.test("an explicit server.max_connections above what the descriptors allow is kept, with a warning", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { max_connections: 5000 } }),
    { descriptorLimit: 1000 },
  );
  assert.equal(proxy.aegis.server.limits.maxConnections, 5000);
  const warning = proxy.logs.find((l) =>
    l.level === "warn" && String(l.msg).startsWith("max_connections is above")
  );
  assert.ok(warning, "warned at start");
  assert.equal(warning.descriptor_limit, 1000);
});
