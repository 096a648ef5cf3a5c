import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { rawExchange } from "../_helpers/raw.ts";

Deno.test("Aegis forwards a request and returns the backend's response with security headers", async () => {
  await using backend = startBackend((req) => {
    const h = new Headers({ "content-type": "text/plain", "x-powered-by": "PHP/8", "x-app": "1" });
    h.append("set-cookie", "a=1; Path=/");
    h.append("set-cookie", "b=2; Path=/");
    return new Response(`hello ${new URL(req.url).pathname}`, { headers: h });
  });
  await using proxy = startTestAegis(await testConfig([backend.url]));

  const res = await fetch(`${proxy.url}/greet?name=x`, { headers: { "x-request-id": "abc-123" } });
  assert.deepEqual(res.status, 200);
  assert.deepEqual(await res.text(), "hello /greet");
  assert.deepEqual(res.headers.get("x-app"), "1");
  assert.deepEqual(res.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
  assert.deepEqual(res.headers.get("x-powered-by"), null);
  assert.deepEqual(res.headers.get("server"), "aegis");
  assert.deepEqual(res.headers.get("x-content-type-options"), "nosniff");
  assert.deepEqual(res.headers.get("x-frame-options"), "DENY");
  assert.deepEqual(res.headers.get("x-xss-protection"), "0");
  assert.deepEqual(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
  assert.deepEqual(
    res.headers.get("permissions-policy"),
    "camera=(), microphone=(), geolocation=()",
  );
  assert.deepEqual(res.headers.get("x-request-id"), "abc-123");

  const seen = backend.received[0]!;
  assert.deepEqual(seen.target, "/greet?name=x");
  assert.deepEqual(seen.headers.get("x-request-id"), "abc-123");
  assert.deepEqual(seen.headers.get("x-forwarded-for"), "127.0.0.1");
  assert.deepEqual(seen.headers.get("x-forwarded-proto"), "http");
  assert.deepEqual(seen.headers.get("x-forwarded-host"), `127.0.0.1:${proxy.port}`);
  assert.deepEqual(seen.headers.get("host"), `127.0.0.1:${proxy.port}`);
});

Deno.test("Aegis generates an X-Request-ID when the client sends none or a hostile one", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  const plain = await fetch(proxy.url);
  await plain.body?.cancel();
  assert.match(plain.headers.get("x-request-id")!, uuid);
  assert.deepEqual(
    backend.received[0]!.headers.get("x-request-id"),
    plain.headers.get("x-request-id"),
  );

  const hostile = await fetch(proxy.url, { headers: { "x-request-id": 'x" injected=1 {}' } });
  await hostile.body?.cancel();
  assert.match(hostile.headers.get("x-request-id")!, uuid);
});

Deno.test("Aegis appends the socket peer to an existing X-Forwarded-For chain and overwrites the other forwarding headers", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const res = await fetch(proxy.url, {
    headers: {
      "x-forwarded-for": "198.51.100.7",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "evil.example",
    },
  });
  await res.body?.cancel();
  const seen = backend.received[0]!.headers;
  assert.deepEqual(seen.get("x-forwarded-for"), "198.51.100.7, 127.0.0.1");
  assert.deepEqual(seen.get("x-forwarded-proto"), "http");
  assert.deepEqual(seen.get("x-forwarded-host"), `127.0.0.1:${proxy.port}`);
});

Deno.test("Aegis strips hop-by-hop request headers and every header named in Connection", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const result = await rawExchange(
    proxy.port,
    "GET / HTTP/1.1\r\nHost: test.local\r\nConnection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\n" +
      "Keep-Alive: timeout=5\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\n" +
      "TE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nX-Kept: yes\r\n\r\n",
  );
  assert.deepEqual(result.status, 200);
  const seen = backend.received[0]!.headers;
  for (
    const name of [
      "x-secret-hop",
      "keep-alive",
      "proxy-authorization",
      "proxy-connection",
      "te",
      "trailer",
      "upgrade",
      "http2-settings",
    ]
  ) {
    assert.deepEqual(seen.get(name), null, `${name} reached the backend`);
  }
  assert.deepEqual(seen.get("x-kept"), "yes");
});

Deno.test("Aegis strips hop-by-hop response headers the backend sends", async () => {
  await using backend = startBackend(() =>
    new Response("ok", {
      headers: {
        "connection": "x-internal",
        "x-internal": "secret",
        "keep-alive": "timeout=1",
        "x-public": "1",
      },
    })
  );
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const res = await fetch(proxy.url);
  await res.body?.cancel();
  assert.deepEqual(res.headers.get("x-internal"), null);
  assert.deepEqual(res.headers.get("keep-alive"), null);
  assert.deepEqual(res.headers.get("x-public"), "1");
});

Deno.test("Aegis answers 502 with a fixed body when the backend cannot be reached, and logs the detail", async () => {
  const gone = startBackend();
  const url = gone.url;
  await gone.close();
  await using proxy = startTestAegis(await testConfig([url]));
  const res = await fetch(`${proxy.url}/x`);
  assert.deepEqual(res.status, 502);
  assert.deepEqual(await res.text(), '{"error":"bad gateway"}');
  assert.deepEqual(res.headers.get("server"), "aegis");
  const failure = proxy.logs.find((l) => l.msg === "backend request failed");
  assert.ok(failure, "the failure is logged");
  assert.deepEqual(failure.kind, "connect");
  assert.match(String(failure.error), /refused|connect/i);
});

Deno.test("Aegis answers 504 when the backend sends no headers within upstream.response_header_timeout", async () => {
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  await using backend = startBackend(async () => {
    await hold;
    return new Response("late");
  });
  await using proxy = startTestAegis(
    await testConfig([backend.url], { upstream: { response_header_timeout: "200ms" } }),
  );
  const res = await fetch(proxy.url);
  release();
  assert.deepEqual(res.status, 504);
  assert.deepEqual(await res.text(), '{"error":"gateway timeout"}');
  assert.deepEqual(proxy.accessLogs()[0]?.reason, "upstream_timeout");
});

Deno.test("Aegis relays a backend 500 untouched apart from the header rules", async () => {
  await using backend = startBackend(() =>
    new Response("boom", { status: 500, headers: { "x-powered-by": "x" } })
  );
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const res = await fetch(proxy.url);
  assert.deepEqual(res.status, 500);
  assert.deepEqual(await res.text(), "boom");
  assert.deepEqual(res.headers.get("x-powered-by"), null);
});

Deno.test("Aegis writes one access-log line per request with a masked client and no query string", async () => {
  await using backend = startBackend(() => new Response("12345"));
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const res = await fetch(`${proxy.url}/p/a?token=secret`, {
    headers: { authorization: "Bearer t0ps3cret", cookie: "sid=s3cr3t" },
  });
  await res.text();
  // The access line is written when the body ends, which can trail the client by a tick.
  for (let i = 0; i < 50 && proxy.accessLogs().length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const lines = proxy.accessLogs();
  assert.deepEqual(lines.length, 1);
  const line = lines[0]!;
  assert.deepEqual(line.method, "GET");
  assert.deepEqual(line.path, "/p/a");
  assert.deepEqual(line.status, 200);
  assert.deepEqual(line.bytes, 5);
  assert.deepEqual(line.client, "127.0.0.0");
  assert.deepEqual(line.backend, backend.url);
  assert.deepEqual(typeof line.duration_ms, "number");
  assert.deepEqual(line.request_id, res.headers.get("x-request-id"));
  const all = JSON.stringify(proxy.logs);
  for (const secret of ["secret", "t0ps3cret", "s3cr3t", "token="]) {
    assert.ok(!all.includes(secret), `logs contain ${secret}`);
  }
});

Deno.test("Aegis sends small bodies with a Content-Length and streams large ones intact", async (t) => {
  await using backend = startBackend(async (req) => {
    let n = 0;
    let sum = 0;
    for await (const chunk of req.body!) {
      n += chunk.byteLength;
      for (const b of chunk) sum = (sum + b) % 65536;
    }
    return new Response(JSON.stringify({ n, sum, cl: req.headers.get("content-length") }));
  });
  await using proxy = startTestAegis(await testConfig([backend.url]));
  /** A chunked upload (no Content-Length) of `size` bytes with a known checksum. */
  const upload = async (size: number) => {
    const data = new Uint8Array(size).map((_, i) => (i * 7) % 251);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= size) return c.close();
        c.enqueue(data.subarray(sent, sent + 8192));
        sent += 8192;
      },
    });
    const res = await fetch(proxy.url, { method: "POST", body, duplex: "half" } as RequestInit);
    const sum = data.reduce((a, b) => (a + b) % 65536, 0);
    return { got: await res.json(), sum };
  };
  await t.step("a 10 KB chunked body arrives with its length", async () => {
    const { got, sum } = await upload(10_000);
    assert.deepEqual(got, { n: 10_000, sum, cl: "10000" });
  });
  await t.step("a 300 KB chunked body streams through, every byte in order", async () => {
    const { got, sum } = await upload(300_000);
    assert.deepEqual(got, { n: 300_000, sum, cl: null });
  });
});
