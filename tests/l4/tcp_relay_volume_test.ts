import assert from "node:assert/strict";
import { tcpRelay } from "../../src/l4/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { attemptCounts } from "../_helpers/attempts.ts";
import {
  echo,
  readExactly,
  receiveStream,
  relayListener,
  sendStream,
  type StreamDigest,
  tcpPool,
  writeFully,
} from "../_helpers/l4.ts";
import { startRawBackend } from "../_helpers/raw.ts";

const GIB = 1024 ** 3;
const quiet = createLogger({ level: "error", sink: () => {} });

Deno.test("tcpRelay() carries 1 GiB each way at once, byte for byte", async () => {
  const atBackend = Promise.withResolvers<{ sent: StreamDigest; received: StreamDigest }>();
  await using backend = startRawBackend(async (conn) => {
    const [sent, received] = await Promise.all([
      sendStream(conn, 0xbac4, GIB),
      receiveStream(conn),
    ]);
    atBackend.resolve({ sent, received });
  });
  const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
  const relay = tcpRelay({
    pool,
    poolName: "bulk",
    connectTimeoutMs: 5000,
    retries: 0,
    idleTimeoutMs: 60_000,
    logger: quiet,
  });
  await using listener = relayListener(relay);
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  const [sent, received] = await Promise.all([
    sendStream(client, 0xc11e, GIB),
    receiveStream(client),
  ]);
  client.close();
  const backendSide = await atBackend.promise;
  assert.deepEqual(backendSide.received, sent, "client → backend");
  assert.deepEqual(received, backendSide.sent, "backend → client");
  assert.equal(sent.bytes, GIB);
  assert.equal(received.bytes, GIB);
  const outcome = await listener.outcome();
  assert.equal(outcome.bytesToBackend, GIB);
  assert.equal(outcome.bytesToClient, GIB);
  assert.ok(outcome.end === "client_closed" || outcome.end === "backend_closed");
  assert.equal(attemptCounts(pool.states[0]!).errors, 0);
});

Deno.test("tcpRelay() keeps 1,000 concurrent connections apart: each gets exactly its own bytes back", async () => {
  const CONNECTIONS = 1000;
  await using backend = startRawBackend(echo);
  const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
  const relay = tcpRelay({
    pool,
    poolName: "echo",
    connectTimeoutMs: 10_000,
    retries: 0,
    idleTimeoutMs: 60_000,
    logger: quiet,
  });
  await using listener = relayListener(relay);
  const clients = await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () => Deno.connect({ hostname: "127.0.0.1", port: listener.port }),
    ),
  );
  // Every connection open at once before any sends: the relays overlap fully.
  const results = await Promise.all(clients.map(async (client, i) => {
    // Unique per connection, and of a different length, so a crossover
    // of bytes or of lengths shows.
    const payload = new TextEncoder().encode(`connection ${i}: ${"x".repeat(i % 97)} ${i}\n`);
    await writeFully(client, payload);
    const back = await readExactly(client, payload.length);
    await client.closeWrite();
    const extra = await client.read(new Uint8Array(1));
    client.close();
    return {
      same: back.length === payload.length && back.every((b, j) => b === payload[j]),
      extra,
    };
  }));
  const wrong = results.map((r, i) => ({ ...r, i })).filter((r) => !r.same || r.extra !== null);
  assert.deepEqual(wrong, []);
  await listener.outcome(CONNECTIONS - 1);
  assert.equal(listener.outcomes.filter((o) => o.end === "client_closed").length, CONNECTIONS);
  assert.deepEqual(attemptCounts(pool.states[0]!).requests, CONNECTIONS);
});
