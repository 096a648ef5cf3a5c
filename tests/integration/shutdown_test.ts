/**
 * Graceful shutdown of the real `aegis` process: SIGTERM and SIGINT stop
 * the listener, let requests in progress finish, and exit 0.
 */

import assert from "node:assert/strict";
import { startBackend } from "../_helpers/backend.ts";
import { spawnAegis } from "../_helpers/cli.ts";
import { writeConfigFile } from "../_helpers/config.ts";
import { connect, rawGet, readUntilClose, send } from "../_helpers/raw.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A backend whose `/slow` answers only when the test says so. */
function slowBackend() {
  const gate = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  const backend = startBackend(async (req) => {
    if (new URL(req.url).pathname === "/slow") {
      arrived.resolve();
      await gate.promise;
      return new Response("slow and complete");
    }
    return new Response("fast");
  });
  return { backend, release: () => gate.resolve(), arrived: arrived.promise };
}

async function configFor(backendUrl: string, extra: Record<string, unknown> = {}) {
  return await writeConfigFile({
    server: { host: "127.0.0.1", port: 0, ...extra },
    backends: [{ url: backendUrl, weight: 1 }],
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
  });
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal}: a request in progress completes, then aegis exits 0`, async () => {
    const { backend, release, arrived } = slowBackend();
    await using _backend = backend;
    // Whatever fails below, the held request must be let go or the backend never stops.
    using _release = { [Symbol.dispose]: release };
    await using aegis = await spawnAegis(await configFor(backend.url), ["--headless"]);
    const url = `http://127.0.0.1:${aegis.port}`;

    const inFlight = fetch(`${url}/slow`).then(
      async (r) => [r.status, await r.text()] as const,
      (e: unknown) => [0, String(e)] as const,
    );
    await arrived;
    aegis.kill(signal);
    await aegis.waitForLog((l) => l.msg === "shutting down").catch((e) => {
      throw new Error(
        `no "shutting down" line after ${signal}; logs: ${JSON.stringify(aegis.logs)}`,
        {
          cause: e,
        },
      );
    });

    // The listener is closed: a new connection is refused, or (if it slipped
    // into the kernel's backlog in the instant of closing) dropped unanswered.
    const late = await connect(aegis.port).then(async (conn) => {
      try {
        await send(conn, rawGet("/"));
        return await readUntilClose(conn, 5000);
      } catch (e) {
        conn.close();
        return e; // reset: refused after all
      }
    }, (e: unknown) => e);
    if (!(late instanceof Error)) {
      assert.equal(
        (late as { status?: number }).status,
        undefined,
        "a late connection is not served",
      );
    }

    release();
    assert.deepEqual(await inFlight, [200, "slow and complete"]);
    const status = await aegis.status;
    assert.equal(status.code, 0, `exit code; stderr:\n${aegis.stderr()}`);
    assert.ok(aegis.logs.some((l) => l.msg === "Aegis shutdown complete"));
    assert.ok(
      aegis.logs.some((l) => l.msg === "request" && l.path === "/slow" && l.status === 200),
      "the request that was in flight is in the access log",
    );
  });
}

Deno.test("idle keep-alive connections do not hold up shutdown", async () => {
  await using backend = startBackend();
  await using aegis = await spawnAegis(await configFor(backend.url), ["--headless"]);
  const conn = await connect(aegis.port);
  await send(conn, rawGet("/").replace("Connection: close\r\n", ""));
  const reading = readUntilClose(conn, 10_000);
  await aegis.waitForLog((l) => l.msg === "request");
  aegis.kill("SIGTERM");
  const status = await aegis.status;
  assert.equal(status.code, 0);
  const result = await reading;
  assert.equal(result.status, 200);
  assert.ok(result.closed, "the idle connection was closed by the shutdown");
});

Deno.test("after server.shutdown_timeout, remaining requests are cut and aegis still exits 0", async () => {
  const { backend, release, arrived } = slowBackend();
  await using _backend = backend;
  using _release = { [Symbol.dispose]: release };
  await using aegis = await spawnAegis(
    await configFor(backend.url, { shutdown_timeout: "300ms" }),
    ["--headless"],
  );
  const inFlight = fetch(`http://127.0.0.1:${aegis.port}/slow`).then(
    (r) => r.text(),
    (e: unknown) => e,
  );
  await arrived;
  aegis.kill("SIGTERM");
  const status = await aegis.status;
  assert.equal(status.code, 0);
  assert.ok(
    aegis.logs.some((l) => l.msg === "shutdown grace period over, closing remaining connections"),
  );
  assert.ok(aegis.logs.some((l) => l.msg === "Aegis shutdown complete"));
  assert.ok((await inFlight) instanceof Error, "the request still in progress was cut");
  release();
  await delay(10);
});
