import assert from "node:assert/strict";
import net from "node:net";
import { EventLog } from "../../src/events/mod.ts";
import { type RelayOutcome, tcpRelay, type TcpRelayOptions } from "../../src/l4/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { Pool } from "../../src/pool/mod.ts";
import { attemptCounts, ONCE } from "../_helpers/attempts.ts";
import { ManualClock } from "../_helpers/clock.ts";
import {
  bytes,
  closeQuietly,
  echo,
  readAll,
  readExactly,
  relayListener,
  startResettingBackend,
  tcpPool,
  writeFully,
} from "../_helpers/l4.ts";
import { startRawBackend } from "../_helpers/raw.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A relay to `pool` with test defaults, logging into `lines`. */
function relayTo(pool: Pool, lines: string[], extra: Partial<TcpRelayOptions> = {}) {
  return tcpRelay({
    pool,
    poolName: "db",
    connectTimeoutMs: 5000,
    retries: 0,
    idleTimeoutMs: Infinity,
    logger: createLogger({ level: "debug", sink: (l) => lines.push(l) }),
    ...extra,
  });
}

Deno.test("tcpRelay() pipes bytes both ways and reports how the connection went", async () => {
  await using backend = startRawBackend(echo);
  const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
  let opened = 0;
  let up = 0;
  let down = 0;
  const closed: RelayOutcome[] = [];
  const relay = relayTo(pool, [], {
    stats: {
      onOpen: () => opened++,
      onBytes: (toBackend, toClient, state) => {
        assert.equal(state, pool.states[0]);
        up += toBackend;
        down += toClient;
      },
      onClose: (o) => closed.push(o),
    },
  });
  await using listener = relayListener(relay);
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  await writeFully(client, bytes("hello, backend"));
  assert.equal(text(await readExactly(client, 14)), "hello, backend");
  await client.closeWrite();
  const rest = await readAll(client);
  client.close();
  assert.deepEqual(rest, { bytes: new Uint8Array(), reset: false });
  const outcome = await listener.outcome();
  assert.deepEqual(outcome, {
    end: "client_closed",
    client: { ip: "127.0.0.1", port: client.localAddr.port },
    backend: `127.0.0.1:${backend.port}`,
    bytesToBackend: 14,
    bytesToClient: 14,
    retries: 0,
    detail: undefined,
  });
  assert.deepEqual([opened, up, down, closed], [1, 14, 14, [outcome]]);
  assert.deepEqual(attemptCounts(pool.states[0]!), ONCE);
});

Deno.test("tcpRelay() reaches an IPv6 backend given as [address]:port", async () => {
  await using backend = startRawBackend(echo, "::1");
  const pool = await tcpPool([`[::1]:${backend.port}`]);
  await using listener = relayListener(relayTo(pool, []));
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  await writeFully(client, bytes("over IPv6"));
  assert.equal(text(await readExactly(client, 9)), "over IPv6");
  client.close();
  assert.equal((await listener.outcome()).backend, `[::1]:${backend.port}`);
});

Deno.test("tcpRelay() honours half-close in both directions", async (t) => {
  await t.step("the client ends its sending and still gets the whole reply", async () => {
    const reply = new Uint8Array(300_000).map((_, i) => i % 251);
    await using backend = startRawBackend(async (conn) => {
      const request = await readAll(conn);
      // The reply only starts once the backend has seen the client's FIN.
      assert.equal(text(request.bytes), "the whole request");
      await writeFully(conn, reply);
    });
    const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
    await using listener = relayListener(relayTo(pool, []));
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    await writeFully(client, bytes("the whole request"));
    await client.closeWrite();
    const got = await readAll(client);
    client.close();
    assert.deepEqual(got, { bytes: reply, reset: false });
    const outcome = await listener.outcome();
    assert.equal(outcome.end, "client_closed");
    assert.equal(outcome.bytesToClient, reply.length);
  });

  await t.step("the backend ends its sending and still gets the client's bytes", async () => {
    const heard = Promise.withResolvers<string>();
    await using backend = startRawBackend(async (conn) => {
      await writeFully(conn, bytes("greeting, then FIN"));
      await conn.closeWrite();
      heard.resolve(text((await readAll(conn)).bytes));
    });
    const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
    await using listener = relayListener(relayTo(pool, []));
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    assert.deepEqual(await readAll(client), { bytes: bytes("greeting, then FIN"), reset: false });
    await writeFully(client, bytes("sent after the backend's FIN"));
    await client.closeWrite();
    const outcome = await listener.outcome();
    client.close();
    assert.equal(outcome.end, "backend_closed");
    assert.equal(await heard.promise, "sent after the backend's FIN");
  });
});

Deno.test("tcpRelay() connects before the client speaks, so a server-speaks-first backend works", async () => {
  await using backend = startRawBackend(async (conn) => {
    await writeFully(conn, bytes("220 smtp.test ready\r\n"));
    assert.equal(text(await readExactly(conn, 6)), "QUIT\r\n");
    await writeFully(conn, bytes("221 bye\r\n"));
  });
  const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
  await using listener = relayListener(relayTo(pool, []));
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  assert.equal(text(await readExactly(client, 21)), "220 smtp.test ready\r\n");
  await writeFully(client, bytes("QUIT\r\n"));
  assert.deepEqual(await readAll(client), { bytes: bytes("221 bye\r\n"), reset: false });
  client.close();
  assert.equal((await listener.outcome()).end, "backend_closed");
});

Deno.test("tcpRelay() closes the client when its backend dies mid-stream, and blames the backend", async () => {
  await using backend = await startResettingBackend(bytes("partial answer"));
  const pool = await tcpPool([`127.0.0.1:${backend.port}`], {
    overrides: { circuit_breaker: { failure_threshold: 1 } },
  });
  const events = new EventLog();
  const lines: string[] = [];
  await using listener = relayListener(relayTo(pool, lines, { events }));
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  assert.equal(text(await readExactly(client, 14)), "partial answer");
  await writeFully(client, new Uint8Array(4096));
  const rest = await readAll(client);
  client.close();
  assert.equal(rest.bytes.length, 0, "nothing more after the backend died");
  const outcome = await listener.outcome();
  assert.equal(outcome.end, "backend_error");
  assert.match(outcome.detail ?? "", /Reset|BrokenPipe/);
  const id = `127.0.0.1:${backend.port}`;
  assert.deepEqual(attemptCounts(pool.states[0]!), {
    requests: 1,
    inFlight: 0,
    errors: 1,
    failuresInARow: 1,
    breaker: "open",
  });
  const [event] = events.recent(1);
  assert.equal(event?.kind, "backend");
  assert.equal(event?.fields.pool, "db");
  assert.equal(event?.fields.backend, id);
  assert.ok(lines.some((l) => l.includes("backend failed mid-stream") && l.includes(id)));
});

Deno.test("tcpRelay() closes the backend when the client resets, and does not blame the backend", async () => {
  const backendSawClose = Promise.withResolvers<void>();
  await using backend = startRawBackend(async (conn) => {
    await echo(conn).catch(() => {});
    backendSawClose.resolve();
  });
  const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
  await using listener = relayListener(relayTo(pool, []));
  const client = net.connect(listener.port, "127.0.0.1");
  client.on("error", () => {});
  const echoed = new Promise((resolve) => client.once("data", resolve));
  client.write("hi");
  await echoed;
  client.resetAndDestroy();
  const outcome = await listener.outcome();
  await backendSawClose.promise;
  assert.equal(outcome.end, "client_closed");
  assert.deepEqual(attemptCounts(pool.states[0]!), ONCE);
});

Deno.test("tcpRelay() closes both sides after the idle timeout, measured from the last byte", async () => {
  const clock = new ManualClock();
  const backendSawClose = Promise.withResolvers<void>();
  await using backend = startRawBackend(async (conn) => {
    await echo(conn).catch(() => {});
    backendSawClose.resolve();
  });
  const pool = await tcpPool([`127.0.0.1:${backend.port}`], { clock });
  await using listener = relayListener(relayTo(pool, [], { clock, idleTimeoutMs: 1000 }));
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  await writeFully(client, bytes("a"));
  assert.equal(text(await readExactly(client, 1)), "a");
  clock.advance(999);
  await writeFully(client, bytes("b"));
  assert.equal(text(await readExactly(client, 1)), "b");
  // The first check finds a byte 999 ms old and waits the difference.
  clock.advance(999);
  assert.equal(listener.outcomes.length, 0);
  clock.advance(1);
  const outcome = await listener.outcome();
  assert.equal(outcome.end, "idle_timeout");
  assert.deepEqual(await readAll(client), { bytes: new Uint8Array(), reset: false });
  client.close();
  await backendSawClose.promise;
  // Idleness is nobody's fault: the try ends neutral.
  assert.deepEqual(attemptCounts(pool.states[0]!), ONCE);
});

Deno.test("tcpRelay() closes both sides at once when its signal fires", async () => {
  const backendSawClose = Promise.withResolvers<void>();
  await using backend = startRawBackend(async (conn) => {
    await echo(conn).catch(() => {});
    backendSawClose.resolve();
  });
  const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
  await using listener = relayListener(relayTo(pool, []));
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  await writeFully(client, bytes("x"));
  assert.equal(text(await readExactly(client, 1)), "x");
  listener.abort();
  const outcome = await listener.outcome();
  assert.equal(outcome.end, "aborted");
  const rest = await readAll(client);
  closeQuietly(client);
  assert.equal(rest.bytes.length, 0);
  await backendSawClose.promise;
  assert.deepEqual(attemptCounts(pool.states[0]!), ONCE);
});
