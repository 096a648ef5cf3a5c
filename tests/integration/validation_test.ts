import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { readBody, startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { connect, rawExchange, rawGet, readUntilClose, send } from "../_helpers/raw.ts";

Deno.test("Aegis refuses path traversal in every encoding before anything reaches the backend", async (t) => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const hostile = [
    "/../etc/passwd",
    "/a/../../etc/passwd",
    "/a/%2e%2e/etc/passwd",
    "/a/%2E%2E/etc/passwd",
    "/a/.%2e/etc",
    "/a/%2e./etc",
    "/a/%252e%252e/etc",
    "/a%2f..%2fetc",
    "/a/..;/admin",
    "/a\\..\\etc",
    "/a/%5c../etc",
    "/a/%00.txt",
  ];
  for (const target of hostile) {
    await t.step(target, async () => {
      const result = await rawExchange(proxy.port, rawGet(target));
      assert.equal(result.status, 400, result.text);
      assert.match(result.text, /\{"error":"invalid path"\}/);
    });
  }
  assert.equal(backend.received.length, 0, "no hostile request was forwarded");

  await t.step("ordinary paths with dots still pass", async () => {
    for (const target of ["/a/./b", "/a..b/c", "/files/v1.2.3/x", "/q?path=../x"]) {
      const result = await rawExchange(proxy.port, rawGet(target));
      assert.equal(result.status, 200, `${target}: ${result.text}`);
    }
  });
});

Deno.test("Aegis answers 405 with an Allow header for methods outside the allow-list", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { security: { allowed_methods: ["GET", "POST"] } }),
  );
  for (const method of ["TRACE", "DELETE", "PROPFIND", "CONNECT"]) {
    const target = method === "CONNECT" ? "test.local:443" : "/";
    const result = await rawExchange(
      proxy.port,
      `${method} ${target} HTTP/1.1\r\nHost: test.local\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(result.status, 405, `${method}: ${result.text}`);
    assert.match(result.text, /\r\nallow: GET, POST\r\n/i);
    assert.match(result.text, /\{"error":"method not allowed"\}/);
  }
  const ok = await fetch(proxy.url, { method: "POST", body: "x" });
  await ok.body?.cancel();
  assert.equal(ok.status, 200);
  assert.deepEqual(backend.received.map((r) => r.method), ["POST"]);
});

Deno.test("Aegis refuses a request with both Content-Length and Transfer-Encoding (request smuggling)", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const result = await rawExchange(
    proxy.port,
    "POST / HTTP/1.1\r\nHost: test.local\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: test.local\r\n\r\n",
  );
  assert.equal(result.status, 400);
  assert.equal(backend.received.length, 0);
});

Deno.test("Aegis answers 413 to a declared Content-Length over max_body_bytes without contacting the backend", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { max_body_bytes: 1024 } }),
  );
  const res = await fetch(proxy.url, { method: "POST", body: new Uint8Array(1025) });
  assert.equal(res.status, 413);
  assert.equal(await res.text(), '{"error":"payload too large"}');
  assert.equal(backend.received.length, 0);
  const fits = await fetch(proxy.url, { method: "POST", body: new Uint8Array(1024) });
  await fits.body?.cancel();
  assert.equal(fits.status, 200);
});

Deno.test("Aegis cuts off a chunked body at max_body_bytes: 413, and the backend never receives the excess", async () => {
  const limit = 64 * 1024;
  const received: number[] = [];
  await using backend = startBackend(async (req, seen) => {
    try {
      await readBody(req, seen);
    } catch {
      // The upload is aborted mid-way; that is the point.
    }
    received.push(seen.bodyBytes);
    return new Response("read");
  });
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { max_body_bytes: limit } }),
  );
  let sent = 0;
  const chunk = new Uint8Array(16 * 1024);
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= limit * 4) return c.close();
      sent += chunk.length;
      c.enqueue(chunk);
    },
  });
  const res = await fetch(proxy.url, { method: "POST", body, duplex: "half" } as RequestInit);
  assert.equal(res.status, 413);
  assert.equal(await res.text(), '{"error":"payload too large"}');
  // Counted with the declared ones.
  assert.equal(proxy.aegis.stats.get("default").rejects.get("body_too_large"), 1);
  // Whatever the backend managed to read before the upload was cut, it is within the limit.
  for (let i = 0; i < 100 && received.length === 0 && backend.received.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const n of received) assert.ok(n <= limit, `backend read ${n} bytes, limit ${limit}`);
});

Deno.test("Aegis checks the Host header against security.allowed_hosts", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      security: { allowed_hosts: ["api.example.com", "*.example.org"] },
    }),
  );
  const ask = (host: string) =>
    rawExchange(proxy.port, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  assert.equal((await ask("api.example.com")).status, 200);
  assert.equal((await ask("API.example.com:8080")).status, 200);
  assert.equal((await ask("www.example.org")).status, 200);
  const refused = await ask("evil.example");
  assert.equal(refused.status, 400);
  assert.match(refused.text, /\{"error":"invalid host"\}/);
  assert.equal((await ask("example.org")).status, 400);
  // Absolute-form targets are judged by their own authority, which is what gets forwarded.
  const absolute = await rawExchange(
    proxy.port,
    "GET http://evil.example/ HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n",
  );
  assert.equal(absolute.status, 400);
  assert.deepEqual(backend.received.map((r) => r.headers.get("host")), [
    "api.example.com",
    "api.example.com:8080",
    "www.example.org",
  ]);
});

Deno.test("Aegis answers 431 when the request line and headers exceed max_header_bytes", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { server: { max_header_bytes: 2048 } }),
  );
  const big = await rawExchange(proxy.port, rawGet("/", `X-Big: ${"a".repeat(3000)}\r\n`));
  assert.equal(big.status, 431);
  const longTarget = await rawExchange(proxy.port, rawGet(`/${"b".repeat(3000)}`));
  assert.equal(longTarget.status, 431);
  const small = await rawExchange(proxy.port, rawGet("/", `X-Small: ${"a".repeat(1000)}\r\n`));
  assert.equal(small.status, 200);
  assert.equal(backend.received.length, 1);
});

Deno.test("Aegis keeps serving after a burst of malformed requests", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const garbage = [
    "GARBAGE\r\n\r\n",
    "GET / HTTP/9.9\r\n\r\n",
    "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    "\x00\x01\x02\x03",
  ];
  for (const text of garbage) {
    const result = await rawExchange(proxy.port, text, 1000);
    assert.ok(
      result.status === undefined || result.status >= 400,
      `${JSON.stringify(text)} → ${result.status}`,
    );
  }
  const res = await fetch(proxy.url);
  assert.equal(await res.text(), "ok");
  assert.equal(backend.received.length, 1);
});

Deno.test("Aegis passes a request body through and the backend sees its length", async () => {
  await using backend = startBackend(async (req, seen) => {
    await readBody(req, seen);
    return new Response(`got ${seen.bodyBytes} cl=${req.headers.get("content-length")}`);
  });
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const res = await fetch(proxy.url, { method: "PUT", body: new Uint8Array(5000).fill(7) });
  assert.equal(await res.text(), "got 5000 cl=5000");
  // Pipelined keep-alive requests on one connection are all answered in order.
  const conn = await connect(proxy.port);
  await send(conn, rawGet("/1").replace("Connection: close\r\n", "") + rawGet("/2"));
  const both = await readUntilClose(conn, 2000);
  assert.equal(both.text.match(/HTTP\/1\.1 200/g)?.length, 2);
});
