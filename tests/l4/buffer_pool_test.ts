/**
 * `BufferPool`: relay buffers kept for the next connection, and relays that
 * reuse them without one connection's bytes reaching another.
 */

import assert from "node:assert/strict";
import { tcpRelay } from "../../src/l4/mod.ts";
import { BufferPool } from "../../src/l4/buffer_pool.ts";
import { createLogger } from "../../src/log/mod.ts";
import { echo, readAll, relayListener, tcpPool, writeFully } from "../_helpers/l4.ts";
import { startRawBackend } from "../_helpers/raw.ts";

Deno.test("BufferPool hands back what it kept, up to its bound, and only of its size", () => {
  const pool = new BufferPool(16, 2);
  const a = pool.take();
  const b = pool.take();
  const c = pool.take();
  assert.notEqual(a, b);
  pool.give(a);
  pool.give(b);
  pool.give(c);
  assert.equal(pool.kept, 2, "bounded");
  pool.give(new Uint8Array(8));
  assert.equal(pool.kept, 2, "another size is not kept");
  const again = [pool.take(), pool.take()];
  assert.ok(again.includes(a) && again.includes(b));
  assert.equal(pool.kept, 0);
});

Deno.test("a relay reusing its buffers never sends a byte an earlier connection left in them", async () => {
  await using backend = startRawBackend(echo);
  const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
  const relay = tcpRelay({
    pool,
    poolName: "echo",
    connectTimeoutMs: 5000,
    retries: 0,
    idleTimeoutMs: 60_000,
    logger: createLogger({ level: "error", sink: () => {} }),
  });
  await using listener = relayListener(relay);
  // Long payloads first, then ever shorter ones: a relay that sent more than
  // it read this time would send the tail of an earlier connection's bytes.
  for (let i = 0; i < 200; i++) {
    const payload = new TextEncoder().encode(
      `${i}:`.padEnd(4000 - i * 19, String.fromCharCode(65 + i % 26)),
    );
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    await writeFully(conn, payload);
    await conn.closeWrite();
    const back = await readAll(conn);
    conn.close();
    assert.deepEqual(back.bytes, payload, `connection ${i}`);
  }
  await listener.outcome(199);
});
