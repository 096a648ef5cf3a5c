/**
 * Volume through a running Aegis's tcp listener: 1 GiB each way at once,
 * byte for byte, and 1,000 connections at once, each getting exactly its
 * own bytes back (a relay's buffers are a security boundary).
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { parseTestConfig } from "../_helpers/config.ts";
import {
  echo,
  readExactly,
  receiveStream,
  sendStream,
  type StreamDigest,
  writeFully,
} from "../_helpers/l4.ts";
import { startRawBackend } from "../_helpers/raw.ts";

const GIB = 1024 ** 3;

/** An Aegis with one tcp listener to the backend on `port`, taking `clients` connections from one client. */
async function tcpAegis(port: number, clients = 256) {
  const config = await parseTestConfig({
    health_check: { interval: "1h" },
    logging: { level: "warn" },
    listeners: [{
      name: "bulk",
      protocol: "tcp",
      address: "127.0.0.1:0",
      pool: "p",
      max_connections_per_client: clients,
      rate_limit: { exempt: ["127.0.0.0/8"] },
    }],
    pools: { p: { backends: [{ address: `127.0.0.1:${port}`, weight: 1 }] } },
  });
  const proxy = startTestAegis(config);
  return { proxy, port: proxy.aegis.listeners.get("bulk")!.addr.port };
}

Deno.test("a tcp listener carries 1 GiB each way at once, with equal SHA-256 at both ends", async () => {
  const atBackend = Promise.withResolvers<{ sent: StreamDigest; received: StreamDigest }>();
  await using backend = startRawBackend(async (conn) => {
    const [sent, received] = await Promise.all([
      sendStream(conn, 0xbac4, GIB),
      receiveStream(conn),
    ]);
    atBackend.resolve({ sent, received });
  });
  const { proxy, port } = await tcpAegis(backend.port);
  await using _ = proxy;
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const [sent, received] = await Promise.all([
    sendStream(client, 0xc11e, GIB),
    receiveStream(client),
  ]);
  client.close();
  const backendSide = await atBackend.promise;
  assert.equal(backendSide.received.sha256, sent.sha256, "client → backend");
  assert.equal(received.sha256, backendSide.sent.sha256, "backend → client");
  assert.equal(sent.bytes, GIB);
  assert.equal(received.bytes, GIB);
  const state = proxy.aegis.pools.get("p")!.states[0]!;
  assert.equal(state.stats.errors, 0);
  assert.equal(state.stats.bytesOut, GIB, "bytes to the backend, counted");
  assert.equal(state.stats.bytesIn, GIB, "bytes from the backend, counted");
});

Deno.test("a tcp listener keeps 1,000 concurrent connections apart: each gets exactly its own bytes back", async () => {
  const CONNECTIONS = 1000;
  await using backend = startRawBackend(echo);
  const { proxy, port } = await tcpAegis(backend.port, CONNECTIONS);
  await using _ = proxy;
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => Deno.connect({ hostname: "127.0.0.1", port })),
  );
  const results = await Promise.all(clients.map(async (client, i) => {
    // Unique per connection, and of a different length, so a crossover of
    // bytes or of lengths shows.
    const payload = new TextEncoder().encode(`connection ${i}: ${"x".repeat(i % 97)} ${i}\n`);
    await writeFully(client, payload);
    const back = await readExactly(client, payload.length);
    await client.closeWrite();
    const extra = await client.read(new Uint8Array(1));
    client.close();
    return {
      same: back.every((b, j) => b === payload[j]) && back.length === payload.length,
      extra,
    };
  }));
  const wrong = results.map((r, i) => ({ ...r, i })).filter((r) => !r.same || r.extra !== null);
  assert.deepEqual(wrong, []);
  assert.equal(proxy.aegis.pools.get("p")!.states[0]!.stats.requests, CONNECTIONS);
});
