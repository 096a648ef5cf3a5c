/** The pooled HTTP/1.1 transport against real sockets, well-behaved and not. */

import assert from "node:assert/strict";
import { h1Transport } from "../../src/h1/mod.ts";
import { H1_TEST_OPTIONS } from "./_options.ts";
import { readRequestHead, send, startRawBackend, waitForClose } from "../_helpers/raw.ts";
import { startBackend } from "../_helpers/backend.ts";
import { ProxyError } from "../../src/core/mod.ts";

const options = H1_TEST_OPTIONS;

/** Answers every request on a connection with `answer(n)` (n counts per connection), keeping it open. */
function keepAliveBackend(answer: (n: number, head: string) => string | null) {
  return startRawBackend(async (conn) => {
    for (let n = 0;; n++) {
      const head = await readRequestHead(conn);
      if (head === "") return;
      const out = answer(n, head);
      if (out === null) return; // close silently
      await send(conn, out);
    }
  });
}

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

Deno.test("h1: sequential requests reuse one pooled connection", async () => {
  await using backend = keepAliveBackend(() => OK);
  using h1 = h1Transport(options);
  for (let i = 0; i < 5; i++) {
    const res = await h1.fetch(new Request(`${backend.url}/x${i}`));
    assert.equal(await res.text(), "ok");
  }
  assert.equal(backend.accepted, 1);
});

Deno.test("h1: a connection is reused only after a clean exchange", async (t) => {
  await t.step("Connection: close from the backend", async () => {
    await using backend = keepAliveBackend(() =>
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    );
    using h1 = h1Transport(options);
    for (let i = 0; i < 3; i++) await (await h1.fetch(new Request(backend.url))).text();
    assert.equal(backend.accepted, 3);
  });
  await t.step("a body the consumer abandoned", async () => {
    await using backend = keepAliveBackend(() =>
      "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(100000)
    );
    using h1 = h1Transport(options);
    for (let i = 0; i < 3; i++) await (await h1.fetch(new Request(backend.url))).body?.cancel();
    assert.equal(backend.accepted, 3);
  });
  await t.step("an HTTP/1.0 answer without keep-alive", async () => {
    await using backend = keepAliveBackend(() => "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    using h1 = h1Transport(options);
    for (let i = 0; i < 2; i++) await (await h1.fetch(new Request(backend.url))).text();
    assert.equal(backend.accepted, 2);
  });
});

Deno.test("h1: the keep-alive race is invisible for idempotent requests and a 502 for POST", async () => {
  // Each connection answers one request, then closes silently when the next arrives.
  await using backend = keepAliveBackend((n) => (n === 0 ? OK : null));
  using h1 = h1Transport(options);
  assert.equal(await (await h1.fetch(new Request(backend.url))).text(), "ok");
  assert.equal(
    await (await h1.fetch(new Request(backend.url))).text(),
    "ok",
    "GET resent on a fresh connection",
  );
  assert.equal(backend.accepted, 2);
  await assert.rejects(
    h1.fetch(new Request(backend.url, { method: "POST", body: "x" })),
    (e: unknown) => e instanceof ProxyError && e.kind === "upstream",
  );
});

Deno.test("h1: responses that break framing rules are refused (502) and the connection dropped", async (t) => {
  const bad: Array<[string, string]> = [
    [
      "Content-Length with chunked",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ],
    [
      "conflicting lengths",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    ],
    ["a folded header", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n"],
    ["a bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"],
    ["a NUL in a header", "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n"],
    ["garbage", "SSH-2.0-OpenSSH_9.0\r\n\r\n"],
  ];
  for (const [label, response] of bad) {
    await t.step(label, async () => {
      await using backend = keepAliveBackend(() => response);
      using h1 = h1Transport(options);
      await assert.rejects(
        h1.fetch(new Request(backend.url)),
        (e: unknown) =>
          e instanceof ProxyError && e.kind === "upstream" && /malformed response/.test(e.message),
      );
    });
  }
  await t.step("an invalid chunk size mid-body errors the body", async () => {
    await using backend = keepAliveBackend(() =>
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nZZ\r\n"
    );
    using h1 = h1Transport(options);
    const res = await h1.fetch(new Request(backend.url));
    await assert.rejects(res.text());
  });
});

Deno.test("h1: interim 1xx answers are skipped, HEAD/204/304 have no body, close-delimited bodies are read to the end", async (t) => {
  await t.step("100 Continue then 200", async () => {
    await using backend = keepAliveBackend(() => "HTTP/1.1 100 Continue\r\n\r\n" + OK);
    using h1 = h1Transport(options);
    const res = await h1.fetch(new Request(backend.url));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok");
  });
  await t.step("HEAD with a Content-Length", async () => {
    await using backend = keepAliveBackend(() => "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
    using h1 = h1Transport(options);
    const res = await h1.fetch(new Request(backend.url, { method: "HEAD" }));
    assert.equal(res.headers.get("content-length"), "1234");
    assert.equal(res.body, null);
    const again = await h1.fetch(new Request(backend.url, { method: "HEAD" }));
    assert.equal(again.status, 200);
    // The announced body might still come: see reuse_test.ts.
    assert.equal(backend.accepted, 2, "the connection was not reused");
  });
  await t.step("close-delimited", async () => {
    await using backend = startRawBackend(async (conn) => {
      await readRequestHead(conn);
      await send(conn, "HTTP/1.1 200 OK\r\n\r\nuntil the end");
    });
    using h1 = h1Transport(options);
    assert.equal(await (await h1.fetch(new Request(backend.url))).text(), "until the end");
  });
  await t.step("chunked with trailers", async () => {
    await using backend = keepAliveBackend(() =>
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    );
    using h1 = h1Transport(options);
    assert.equal(await (await h1.fetch(new Request(backend.url))).text(), "hello world");
    assert.equal(await (await h1.fetch(new Request(backend.url))).text(), "hello world");
    assert.equal(backend.accepted, 1);
  });
});

Deno.test("h1: request bodies keep their Content-Length, or go chunked without one", async () => {
  await using backend = startBackend(async (req) => {
    const n = (await req.arrayBuffer()).byteLength;
    return new Response(
      `${n} cl=${req.headers.get("content-length")} te=${req.headers.get("transfer-encoding")}`,
    );
  });
  using h1 = h1Transport(options);
  const small = await h1.fetch(
    new Request(backend.url, {
      method: "PUT",
      body: "x".repeat(10),
      headers: { "content-length": "10" },
    }),
  );
  assert.equal(await small.text(), "10 cl=10 te=null");
  const big = 200_000;
  const declared = await h1.fetch(
    new Request(backend.url, {
      method: "PUT",
      headers: { "content-length": String(big) },
      body: new Blob([new Uint8Array(big)]).stream(),
      duplex: "half",
    } as RequestInit),
  );
  assert.equal(await declared.text(), `${big} cl=${big} te=null`);
  const unknown = await h1.fetch(
    new Request(backend.url, {
      method: "POST",
      body: new Blob([new Uint8Array(big)]).stream(),
      duplex: "half",
    } as RequestInit),
  );
  assert.equal(await unknown.text(), `${big} cl=null te=chunked`);
});

Deno.test("h1: at max_connections, further requests wait for a connection instead of opening more", async () => {
  let open = 0;
  let most = 0;
  await using backend = startBackend(async () => {
    most = Math.max(most, ++open);
    await new Promise((r) => setTimeout(r, 30));
    open--;
    return new Response("ok");
  });
  using h1 = h1Transport({ ...options, maxConnections: 2 });
  const all = await Promise.all(
    Array.from({ length: 8 }, () => h1.fetch(new Request(backend.url)).then((r) => r.text())),
  );
  assert.deepEqual(all, new Array(8).fill("ok"));
  assert.equal(most, 2);
});

Deno.test("h1: idle connections expire after idle_connection_timeout", async () => {
  await using backend = keepAliveBackend(() => OK);
  using h1 = h1Transport({ ...options, idleTimeoutMs: 50 });
  await (await h1.fetch(new Request(backend.url))).text();
  await new Promise((r) => setTimeout(r, 120));
  await (await h1.fetch(new Request(backend.url))).text();
  assert.equal(backend.accepted, 2);
});

Deno.test("h1: at most max_idle_connections stay pooled; the rest are closed", async () => {
  // Slow enough that three requests at once need three connections.
  await using backend = startRawBackend(async (conn) => {
    while (await readRequestHead(conn) !== "") {
      await new Promise((r) => setTimeout(r, 30));
      await send(conn, OK);
    }
  });
  using h1 = h1Transport({ ...options, maxIdle: 1 });
  const burst = () =>
    Promise.all([1, 2, 3].map(async () => (await h1.fetch(new Request(backend.url))).text()));
  await burst();
  assert.equal(backend.accepted, 3);
  await burst();
  assert.equal(backend.accepted, 5, "one connection was kept, two were opened again");
});

Deno.test("h1: a refused connection is a retryable connect error", async () => {
  const gone = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = gone.addr.port;
  gone.close();
  using h1 = h1Transport(options);
  await assert.rejects(
    h1.fetch(new Request(`http://127.0.0.1:${port}/`)),
    (e: unknown) => e instanceof ProxyError && e.kind === "connect" && e.retryable,
  );
});

Deno.test("h1: aborting the request closes the connection and rejects", async () => {
  await using backend = startRawBackend(async (conn) => {
    await readRequestHead(conn);
    await waitForClose(conn);
  });
  using h1 = h1Transport(options);
  const abort = new AbortController();
  const pending = h1.fetch(new Request(backend.url, { signal: abort.signal }));
  setTimeout(() => abort.abort(), 20);
  await assert.rejects(pending);
});
