import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { until } from "../_helpers/load.ts";
import { testConfig } from "../_helpers/config.ts";
import {
  connect,
  rawGet,
  readRequestHead,
  readUntilClose,
  send,
  startRawBackend,
  waitForClose,
} from "../_helpers/raw.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Aegis cuts off a client that trickles its request headers (slowloris)", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { read_timeout: "300ms" } }),
  );
  const conn = await connect(proxy.port);
  const head = "GET / HTTP/1.1\r\nHost: test.local\r\nX-Slow: ";
  let sending = true;
  const trickle = (async () => {
    for (const ch of head + "a".repeat(200)) {
      if (!sending) return;
      try {
        await send(conn, ch);
      } catch {
        return;
      }
      await delay(50);
    }
  })();
  const result = await readUntilClose(conn, 5000);
  sending = false;
  await trickle;
  assert.ok(result.closed, "the connection was closed by Aegis");
  assert.equal(result.status, undefined, "no response was sent");
  assert.equal(backend.received.length, 0);
  const res = await fetch(proxy.url);
  assert.equal(await res.text(), "ok", "Aegis keeps serving others");
});

Deno.test("Aegis closes a connection that opens and sends nothing", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { read_timeout: "200ms" } }),
  );
  const result = await readUntilClose(await connect(proxy.port), 5000);
  assert.ok(result.closed);
  assert.equal(result.text, "");
});

Deno.test("Aegis closes keep-alive connections idle longer than server.idle_timeout", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { idle_timeout: "300ms", read_timeout: "5s" } }),
  );
  const conn = await connect(proxy.port);
  await send(conn, rawGet("/").replace("Connection: close\r\n", ""));
  const result = await readUntilClose(conn, 5000);
  assert.equal(result.status, 200);
  assert.ok(result.closed, "the idle keep-alive connection was closed");
  assert.equal(proxy.aegis.server.connections, 0);
});

Deno.test("Aegis answers 408 when a client stalls in the middle of its request body", async (t) => {
  await using backend = startBackend(async (req) => {
    await req.arrayBuffer().catch(() => {});
    return new Response("read");
  });
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { read_timeout: "300ms" } }),
  );
  for (const length of [1000, 1_000_000]) {
    await t.step(`declared length ${length}`, async () => {
      const conn = await connect(proxy.port);
      await send(
        conn,
        `POST / HTTP/1.1\r\nHost: test.local\r\nContent-Length: ${length}\r\n\r\npartial`,
      );
      const result = await readUntilClose(conn, 5000);
      assert.equal(result.status, 408, result.text);
      assert.match(result.text, /\{"error":"request timeout"\}/);
    });
  }
  const res = await fetch(proxy.url);
  assert.equal(await res.text(), "read");
});

Deno.test("Aegis aborts a response the client stops reading for longer than server.write_timeout", async () => {
  let cancelled = false;
  await using backend = startBackend(() => {
    const chunk = new Uint8Array(256 * 1024);
    let sent = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent++ > 4096) return c.close(); // 1 GiB at most
          c.enqueue(chunk);
        },
        cancel() {
          cancelled = true;
        },
      }),
    );
  });
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { write_timeout: "300ms" } }),
  );
  const conn = await connect(proxy.port);
  await send(conn, rawGet("/big"));
  // Read the head and a little body, then stop reading entirely.
  await conn.read(new Uint8Array(1024));
  await until(() => proxy.accessLogs().length > 0, "the response ends");
  const line = proxy.accessLogs()[0]!;
  assert.equal(line.outcome, "write_timeout");
  assert.ok(Number(line.bytes) < 1024 ** 3, "the body was not delivered in full");
  await until(() => cancelled, "the backend body is cancelled");
  conn.close();
});

/** A backend that declares `length` body bytes, sends ten, then stalls until the proxy gives up. */
function startStallingBackend(length: number) {
  return startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await send(conn, `HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\n\r\nfirst part`);
    await waitForClose(conn);
  });
}

Deno.test("Aegis aborts a large response whose backend stalls longer than upstream.read_timeout mid-body", async () => {
  await using backend = startStallingBackend(1_000_000);
  await using proxy = startTestAegis(
    await testConfig([backend.url], { upstream: { read_timeout: "300ms" } }),
  );
  const result = await readUntilClose(
    await connect(proxy.port).then(async (c) => {
      await send(c, rawGet("/"));
      return c;
    }),
    5000,
  );
  assert.equal(result.status, 200);
  assert.ok(result.closed, "the client connection is closed rather than left hanging");
  assert.ok(!result.text.endsWith("x".repeat(10)));
  await until(() => proxy.accessLogs().length > 0, "the access line is written");
  assert.equal(proxy.accessLogs()[0]!.outcome, "upstream_timeout");
});

Deno.test("Aegis answers 504 when a backend stalls longer than upstream.read_timeout in a small body", async () => {
  await using backend = startStallingBackend(1000);
  await using proxy = startTestAegis(
    await testConfig([backend.url], { upstream: { read_timeout: "300ms" } }),
  );
  const res = await fetch(proxy.url);
  assert.equal(
    res.status,
    504,
    "a small body is read whole first, so the client gets a clean error",
  );
  assert.equal(await res.text(), '{"error":"gateway timeout"}');
  await until(() => proxy.accessLogs().length > 0, "the access line is written");
  assert.equal(proxy.accessLogs()[0]!.reason, "upstream_timeout");
});

Deno.test("Aegis answers 504 when a backend accepts the connection but never answers", async () => {
  await using backend = startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await waitForClose(conn);
  });
  await using proxy = startTestAegis(
    await testConfig([backend.url], { upstream: { response_header_timeout: "300ms" } }),
  );
  const res = await fetch(proxy.url);
  assert.equal(res.status, 504);
  assert.equal(await res.text(), '{"error":"gateway timeout"}');
});

Deno.test("Aegis reports a truncated body when a backend lies about a large Content-Length", async () => {
  await using backend = startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nonly ten b");
  });
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const res = await fetch(proxy.url);
  assert.equal(res.status, 200);
  await assert.rejects(
    res.text(),
    "the client sees a broken body, not a short one that looks complete",
  );
  await until(() => proxy.accessLogs().length > 0, "the access line is written");
  assert.equal(proxy.accessLogs()[0]!.outcome, "upstream_error");
  const again = await fetch(proxy.url);
  assert.equal(again.status, 200);
  await again.body?.cancel();
});

Deno.test("Aegis answers 502 when a backend lies about a small Content-Length, and keeps serving", async () => {
  await using backend = startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
  });
  await using proxy = startTestAegis(await testConfig([backend.url]));
  for (let i = 0; i < 2; i++) {
    const res = await fetch(proxy.url);
    assert.equal(res.status, 502);
    assert.equal(await res.text(), '{"error":"bad gateway"}');
  }
  await until(() => proxy.accessLogs().length === 2, "both access lines are written");
  assert.equal(proxy.accessLogs()[0]!.reason, "upstream");
});

Deno.test("Aegis answers 502 when a backend resets the connection before responding", async () => {
  await using backend = startRawBackend(async (conn) => {
    await readRequestHead(conn);
    conn.close();
  });
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const res = await fetch(proxy.url);
  assert.equal(res.status, 502);
  assert.equal(await res.text(), '{"error":"bad gateway"}');
});

Deno.test("Aegis answers 502 when a backend sends garbage instead of HTTP", async () => {
  await using backend = startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await send(conn, "SSH-2.0-OpenSSH_9.0\r\n\r\n");
  });
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const res = await fetch(proxy.url);
  assert.equal(res.status, 502);
  await res.body?.cancel();
});
