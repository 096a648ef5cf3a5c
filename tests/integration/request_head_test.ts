/**
 * The request head over real sockets: a missing Host, request targets Aegis
 * must not forward, the asterisk form of OPTIONS, and the limits on header
 * fields (Aegis's `max_header_bytes` and the runtime's own).
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { TEST_TRANSPORT, testConfig } from "../_helpers/config.ts";
import { rawExchange, rawGet, readRequestHead, send, startRawBackend } from "../_helpers/raw.ts";

const enc = new TextEncoder();

/** A request head with `fields` extra header fields of `size` value bytes each. */
function withFields(fields: number, size: number): string {
  let head = "GET / HTTP/1.1\r\nHost: test.local\r\nConnection: close\r\n";
  for (let i = 0; i < fields; i++) head += `x-f${i}: ${"v".repeat(size)}\r\n`;
  return head + "\r\n";
}

Deno.test("Aegis answers 400 to a request without Host instead of making one up", async (t) => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const cases: Array<[string, string]> = [
    ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"],
    ["HTTP/1.1 with an empty Host", "GET / HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n"],
    // The runtime does not say which version a request had: 1.0 without Host is refused too.
    ["HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, async () => {
      const result = await rawExchange(proxy.port, text);
      assert.equal(result.status, 400, result.text);
      assert.match(result.text, /\{"error":"missing host"\}/);
      assert.match(result.text, /\r\nx-content-type-options: nosniff\r\n/i);
    });
  }
  assert.equal(backend.received.length, 0);
  assert.deepEqual(
    proxy.accessLogs().map((l) => l.reason),
    ["missing_host", "missing_host", "missing_host"],
  );
  assert.equal(proxy.aegis.refreshSnapshot().global.rejects.missing_host, 3);

  await t.step("a Host naming localhost and the listener's port is a Host", async () => {
    const result = await rawExchange(
      proxy.port,
      `GET / HTTP/1.1\r\nHost: localhost:${proxy.port}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(result.status, 200, result.text);
    assert.equal(backend.received.at(-1)?.headers.get("host"), `localhost:${proxy.port}`);
  });
});

Deno.test("Aegis forwards HTTP/2 requests, which carry their authority without a Host field", async (t) => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  using h2 = Deno.createHttpClient({ http2: true, http1: false });
  await t.step("the usual authority", async () => {
    const res = await fetch(`${proxy.url}/h2`, { client: h2 });
    assert.equal(await res.text(), "ok");
    assert.equal(backend.received.at(-1)?.headers.get("host"), `127.0.0.1:${proxy.port}`);
  });
  await t.step("known false positive: the authority localhost:<listener port>", async () => {
    const res = await fetch(`http://localhost:${proxy.port}/h2`, { client: h2 });
    assert.equal(res.status, 400);
    assert.equal(await res.text(), '{"error":"missing host"}');
  });
});

Deno.test("Aegis refuses request targets it must not forward", async (t) => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const refused = [
    "ftp://b.example/x",
    "file://h/etc/passwd",
    // The runtime turns these two into the paths /file:///etc/passwd and /https:///x.
    "file:///etc/passwd",
    "https:///x",
    "/file:///etc/passwd",
    "http://user@test.local/",
  ];
  for (const target of refused) {
    await t.step(target, async () => {
      const result = await rawExchange(proxy.port, rawGet(target));
      assert.equal(result.status, 400, result.text);
      assert.match(result.text, /\{"error":"invalid target"\}/);
    });
  }
  assert.equal(backend.received.length, 0, "none reached the backend");
  assert.equal(proxy.aegis.refreshSnapshot().global.rejects.invalid_target, refused.length);

  await t.step("a URL inside a path, and absolute-form http, still pass", async () => {
    for (const target of ["/https://x/y", "/proxy/http://h/", "http://test.local/a"]) {
      const result = await rawExchange(proxy.port, rawGet(target));
      assert.equal(result.status, 200, `${target}: ${result.text}`);
    }
    assert.deepEqual(backend.received.map((r) => r.target), [
      "/https://x/y",
      "/proxy/http://h/",
      "/a",
    ]);
  });
});

Deno.test("Aegis forwards OPTIONS * as the asterisk form (h1), or answers 501 (fetch)", async () => {
  const lines: string[] = [];
  await using backend = startRawBackend(async (conn) => {
    const head = await readRequestHead(conn);
    lines.push(head.slice(0, head.indexOf("\r\n")));
    await send(conn, "HTTP/1.1 200 OK\r\nAllow: GET, OPTIONS\r\nContent-Length: 0\r\n\r\n");
  });
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      security: { allowed_methods: ["GET", "OPTIONS"] },
      health_check: { interval: "1h" },
    }),
  );
  const result = await rawExchange(
    proxy.port,
    "OPTIONS * HTTP/1.1\r\nHost: test.local\r\nConnection: close\r\n\r\n",
  );
  const forwarded = lines.filter((l) => l.startsWith("OPTIONS")); // not the health probe
  if (TEST_TRANSPORT === "fetch") {
    assert.equal(result.status, 501, result.text);
    assert.match(result.text, /\{"error":"not implemented"\}/);
    assert.deepEqual(forwarded, []);
  } else {
    assert.equal(result.status, 200, result.text);
    assert.match(result.text, /\r\nallow: GET, OPTIONS\r\n/i);
    assert.deepEqual(forwarded, ["OPTIONS * HTTP/1.1"]);
  }
  assert.equal(proxy.accessLogs()[0]?.path, "*");
});

/**
 * A backend that takes any head (a `Deno.serve` backend has the same limits
 * as the front, which the fields Aegis adds would hit first) and answers 200.
 */
function anyHeadBackend() {
  return startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  });
}

Deno.test(
  "max_header_bytes is the header limit clients meet first; the runtime's own are documented",
  async (t) => {
    await using backend = anyHeadBackend();
    await using proxy = startTestAegis(
      await testConfig([backend.url], { health_check: { interval: "1h" } }),
    );
    await t.step("the default 8 KiB: 100 ordinary fields get Aegis's 431", async () => {
      const result = await rawExchange(proxy.port, withFields(100, 80));
      assert.equal(result.status, 431, result.text);
      assert.match(result.text, /\r\nserver: aegis\r\n/i);
    });
    await t.step(
      "the runtime takes 128 fields in all (Host and Connection among them)",
      async () => {
        const result = await rawExchange(proxy.port, withFields(126, 1));
        assert.equal(result.status, 200, result.text);
      },
    );
    await t.step("and answers a 129th field with its own bare 400", async () => {
      const result = await rawExchange(proxy.port, withFields(127, 1));
      assert.equal(result.status, 400, result.text);
      assert.doesNotMatch(result.text, /server: aegis/i);
    });
  },
);

Deno.test(
  "the runtime refuses request heads over 65,540 bytes, whatever max_header_bytes says",
  async (t) => {
    await using backend = anyHeadBackend();
    await using proxy = startTestAegis(
      await testConfig([backend.url], {
        server: { max_header_bytes: 262144 },
        health_check: { interval: "1h" },
      }),
    );
    const head = (n: number) =>
      `GET / HTTP/1.1\r\nHost: test.local\r\nConnection: close\r\nx-big: ${"a".repeat(n)}\r\n\r\n`;
    const largest = 65540 - enc.encode(head(0)).byteLength;
    await t.step("65,540 bytes pass", async () => {
      assert.equal(enc.encode(head(largest)).byteLength, 65540);
      const result = await rawExchange(proxy.port, head(largest));
      assert.equal(result.status, 200, result.text.slice(0, 200));
    });
    await t.step("one more byte gets the runtime's bare 400", async () => {
      const result = await rawExchange(proxy.port, head(largest + 1));
      assert.equal(result.status, 400, result.text.slice(0, 200));
      assert.doesNotMatch(result.text, /server: aegis/i);
    });
  },
);
