/**
 * Aegis really running out of file descriptors (issue 11): the real process
 * under `ulimit -n 64`, flooded with idle connections. Its connects to the
 * backend then fail with EMFILE; that must never count against the backend.
 */

import assert from "node:assert/strict";
import { spawnAegis } from "../_helpers/cli.ts";
import { writeConfigFile } from "../_helpers/config.ts";
import { KeepAliveConn } from "../_helpers/keepalive.ts";
import { connect, readRequestHead, send, startRawBackend } from "../_helpers/raw.ts";

/** Descriptors Aegis may open: about 26 are in use at rest. */
const DESCRIPTOR_LIMIT = 64;
/** Idle connections thrown at it: far more than it has descriptors for. */
const FLOOD = 120;

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("out of descriptors, Aegis answers 503 and no backend is blamed: breaker closed, healthy, no errors", async () => {
  // Every answer closes its connection, so each request needs a new connect.
  await using backend = startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  });
  const path = await writeConfigFile({
    server: { host: "127.0.0.1", port: 0, max_connections: 1000 }, // far above what 64 allow
    backends: [{ url: backend.url, weight: 1 }],
    health_check: { interval: "200ms", timeout: "200ms", unhealthy_threshold: 1 },
    circuit_breaker: { failure_threshold: 2 },
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
    rate_limit: { exempt: ["127.0.0.0/8"] },
  });
  await using aegis = await spawnAegis(path, ["--headless"], {
    descriptorLimit: DESCRIPTOR_LIMIT,
  });
  using client = await KeepAliveConn.open(aegis.port);
  assert.equal((await client.get("/")).status, 200, "served before the flood");

  const flood: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < FLOOD; i++) flood.push(await connect(aegis.port));
    await aegis.waitForLog((l) => l.msg === "accept failed");

    // The established connection is still served: Aegis answers it itself.
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await client.get("/"));
    for (const res of answers) {
      assert.equal(res.status, 503);
      assert.equal(res.body, '{"error":"service unavailable"}');
      assert.match(res.head, /\r\nretry-after: 1/);
    }
    // Health probes run every 200 ms and fail the same way meanwhile.
    await delay(600);
  } finally {
    for (const c of flood) c.close();
  }

  // Descriptors come back as the flood's connections close (those still in
  // the backlog are accepted and closed first): the backend is used again.
  let again = 0;
  for (let i = 0; i < 100 && again !== 200; i++) {
    again = (await client.get("/")).status;
    if (again !== 200) await delay(100);
  }
  assert.equal(again, 200, "served again once descriptors are free");

  const admin = aegis.logs.find((l) => l.msg === "Aegis listening")?.admin as string;
  const status = await (await fetch(`${admin}/status`)).json();
  const [b] = status.backends as Array<Record<string, unknown>>;
  assert.equal((b!.breaker as { state: string }).state, "closed");
  assert.equal(b!.errors, 0, "no failure counted against the backend");
  assert.equal(b!.health, "healthy");
  assert.ok(status.connections.accept_errors >= 1);
  const local = aegis.logs.filter((l) => l.msg === "request" && l.reason === "local_resource");
  assert.ok(local.length >= 5, `every 503 says why: ${local.length}`);
  assert.ok(!aegis.logs.some((l) => l.msg === "circuit breaker opened"));
  assert.ok(!aegis.logs.some((l) => l.msg === "backend unhealthy"));
  const acceptLines = aegis.logs.filter((l) => l.msg === "accept failed");
  assert.ok(
    acceptLines.length <= 2,
    `accept failures are not logged one by one: ${acceptLines.length}`,
  );
  await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
});
