import assert from "node:assert/strict";
import { tcpRelay } from "../../src/l4/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { type ScreenReason, startTcpServer, type TcpHandler } from "../../src/server/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { bytes, echo, readAll, readExactly, tcpPool, writeFully } from "../_helpers/l4.ts";
import { until } from "../_helpers/load.ts";
import { startRawBackend } from "../_helpers/raw.ts";

const quiet = createLogger({ level: "error", sink: () => {} });

/** Echoes until the client ends its sending, or until the signal fires. */
const echoUntilAborted: TcpHandler = async (conn, _client, signal) => {
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await echo(conn);
    conn.close();
  } catch {
    // Closed by the signal.
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
};

function connect(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** True when the server closed `conn` without sending anything. */
async function closedAtOnce(conn: Deno.TcpConn): Promise<boolean> {
  const got = await readAll(conn);
  conn.close();
  return got.bytes.length === 0;
}

/** True when a new connection is refused, reset, or closed at once (a stopped listener). */
async function turnedAway(port: number): Promise<boolean> {
  let conn: Deno.TcpConn;
  try {
    conn = await connect(port);
  } catch {
    return true;
  }
  return await closedAtOnce(conn);
}

/** Sends `ping`, expects it back. */
async function ping(conn: Deno.TcpConn): Promise<void> {
  await writeFully(conn, bytes("ping"));
  assert.deepEqual(await readExactly(conn, 4), bytes("ping"));
}

Deno.test("startTcpServer() hands each connection to its handler and counts it while open", async () => {
  const clients: Array<{ ip: string; port: number }> = [];
  const server = startTcpServer({
    hostname: "127.0.0.1",
    port: 0,
    logger: quiet,
    handler: (conn, client, signal) => {
      clients.push(client);
      return echoUntilAborted(conn, client, signal);
    },
  });
  try {
    assert.notEqual(server.addr.port, 0);
    const conn = await connect(server.addr.port);
    await ping(conn);
    assert.deepEqual(
      [server.connections, server.requestsInFlight, server.accepted],
      [1, 1, 1],
    );
    assert.deepEqual(clients, [{ ip: "127.0.0.1", port: conn.localAddr.port }]);
    await conn.closeWrite();
    await readAll(conn);
    conn.close();
    await until(() => server.connections === 0, "the connection is released");
    assert.deepEqual(server.screened, { denied: 0, rate_limited: 0 });
    assert.deepEqual(server.rejected, { max_connections: 0, per_client: 0 });
  } finally {
    await server.shutdown(0);
  }
});

Deno.test("startTcpServer() refuses connections past its limits and counts them", async (t) => {
  await t.step("max_connections, then a raised limit for new connections", async () => {
    const server = startTcpServer({
      hostname: "127.0.0.1",
      port: 0,
      logger: quiet,
      handler: echoUntilAborted,
      limits: { maxConnections: 1, maxPerClient: Infinity },
    });
    try {
      const first = await connect(server.addr.port);
      await ping(first);
      assert.ok(await closedAtOnce(await connect(server.addr.port)));
      assert.deepEqual(server.rejected, { max_connections: 1, per_client: 0 });
      server.setLimits({ maxConnections: 2, maxPerClient: Infinity });
      assert.equal(server.limits.maxConnections, 2);
      const second = await connect(server.addr.port);
      await ping(second);
      assert.equal(server.connections, 2);
      first.close();
      second.close();
    } finally {
      await server.shutdown(0);
    }
  });

  await t.step("per client, by the client key", async () => {
    const keys: string[] = [];
    const server = startTcpServer({
      hostname: "127.0.0.1",
      port: 0,
      logger: quiet,
      handler: echoUntilAborted,
      limits: { maxConnections: Infinity, maxPerClient: 1 },
      clientKey: (ip) => {
        keys.push(ip);
        return "everyone";
      },
    });
    try {
      const first = await connect(server.addr.port);
      await ping(first);
      assert.ok(await closedAtOnce(await connect(server.addr.port)));
      assert.deepEqual(server.rejected, { max_connections: 0, per_client: 1 });
      assert.deepEqual(keys, ["127.0.0.1", "127.0.0.1"]);
      first.close();
    } finally {
      await server.shutdown(0);
    }
  });
});

Deno.test("startTcpServer() closes what its screen turns away, before admission, and counts it", async () => {
  const verdicts: Array<ScreenReason | undefined> = ["denied", "rate_limited", "denied", undefined];
  let handled = 0;
  const server = startTcpServer({
    hostname: "127.0.0.1",
    port: 0,
    logger: quiet,
    limits: { maxConnections: 1, maxPerClient: 1 },
    screen: () => verdicts.shift(),
    handler: (conn, client, signal) => {
      handled++;
      return echoUntilAborted(conn, client, signal);
    },
  });
  try {
    for (let i = 0; i < 3; i++) assert.ok(await closedAtOnce(await connect(server.addr.port)));
    const admitted = await connect(server.addr.port);
    await ping(admitted);
    assert.deepEqual(server.screened, { denied: 2, rate_limited: 1 });
    // Screened connections took no admission slot, so none was refused for limits.
    assert.deepEqual(server.rejected, { max_connections: 0, per_client: 0 });
    assert.equal(handled, 1);
    assert.equal(server.accepted, 1);
    admitted.close();
  } finally {
    await server.shutdown(0);
  }
});

Deno.test("startTcpServer() shutdown waits for open connections, then the grace period forces them", async (t) => {
  await t.step("a connection that ends within the grace ends the shutdown", async () => {
    const clock = new ManualClock();
    const server = startTcpServer({
      hostname: "127.0.0.1",
      port: 0,
      logger: quiet,
      clock,
      handler: echoUntilAborted,
    });
    const conn = await connect(server.addr.port);
    await ping(conn);
    let finished = false;
    const shutdown = server.shutdown(10_000).then(() => (finished = true));
    assert.equal(server.draining, true);
    assert.ok(await turnedAway(server.addr.port));
    // Still served while draining.
    await ping(conn);
    assert.equal(finished, false);
    await conn.closeWrite();
    await readAll(conn);
    conn.close();
    await shutdown;
    assert.equal(server.connections, 0);
  });

  await t.step("one that does not is closed when the grace is over", async () => {
    const clock = new ManualClock();
    const server = startTcpServer({
      hostname: "127.0.0.1",
      port: 0,
      logger: quiet,
      clock,
      handler: echoUntilAborted,
    });
    const conn = await connect(server.addr.port);
    await ping(conn);
    let finished = false;
    const shutdown = server.shutdown(Infinity).then(() => (finished = true));
    // A second call may only shorten the grace: this one does, the third does not.
    server.shutdown(1000);
    server.shutdown(5000);
    clock.advance(999);
    await ping(conn);
    assert.equal(finished, false);
    clock.advance(1);
    await shutdown;
    assert.ok(await closedAtOnce(conn));
    assert.equal(clock.pending, 0, "no timer left behind");
  });
});

Deno.test("startTcpServer() throws a bind error at once", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.throws(
      () =>
        startTcpServer({
          hostname: "127.0.0.1",
          port: taken.addr.port,
          logger: quiet,
          handler: echoUntilAborted,
        }),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
  }
});

Deno.test("startTcpServer() closes a connection whose handler throws, and logs it", async () => {
  const lines: string[] = [];
  const server = startTcpServer({
    hostname: "127.0.0.1",
    port: 0,
    logger: createLogger({ sink: (l) => lines.push(l) }),
    handler: () => {
      throw new Error("a bug");
    },
  });
  try {
    assert.ok(await closedAtOnce(await connect(server.addr.port)));
    await until(() => server.connections === 0, "the connection is released");
    assert.ok(
      lines.some((l) => l.includes("tcp connection handler failed") && l.includes("a bug")),
    );
  } finally {
    await server.shutdown(0);
  }
});

Deno.test("startTcpServer() with tcpRelay() relays to a pool backend end to end", async () => {
  await using backend = startRawBackend(echo);
  const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
  const server = startTcpServer({
    hostname: "127.0.0.1",
    port: 0,
    logger: quiet,
    handler: tcpRelay({
      pool,
      poolName: "db",
      connectTimeoutMs: 5000,
      retries: 0,
      idleTimeoutMs: 60_000,
      logger: quiet,
    }),
  });
  try {
    const conn = await connect(server.addr.port);
    await ping(conn);
    assert.equal(server.requestsInFlight, 1);
    await conn.closeWrite();
    assert.deepEqual(await readAll(conn), { bytes: new Uint8Array(), reset: false });
    conn.close();
  } finally {
    await server.shutdown(1000);
  }
  assert.equal(server.connections, 0);
});
