/**
 * A pooled connection never carries bytes from one exchange into the next:
 * the h1 transport against backends that send more than they should, early,
 * late, or not at all.
 */

import assert from "node:assert/strict";
import { h1Transport } from "../../src/h1/mod.ts";
import { H1_TEST_OPTIONS } from "./_options.ts";
import { readRequestHead, send, startRawBackend, waitForClose } from "../_helpers/raw.ts";
import { until } from "../_helpers/load.ts";
import { RequestReader, type WireRequest, within } from "../_helpers/wire.ts";

const options = H1_TEST_OPTIONS;

/** A response shaped like the answer to the next request: what must never reach it. */
const SMUGGLED = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled";

/** The honest answer to a request, naming the path it answers. */
function answer(req: WireRequest): string {
  const body = `for ${req.target}`;
  return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/**
 * A keep-alive backend: the very first request it receives is answered
 * with `first(req, conn)`, every later one (on any connection) honestly.
 */
function backendAnswering(first: (req: WireRequest, conn: Deno.TcpConn) => Promise<void>) {
  let requests = 0;
  return startRawBackend(async (conn) => {
    const reader = new RequestReader(conn);
    for (;;) {
      const req = await reader.next();
      if (!req) return;
      if (requests++ === 0) await first(req, conn);
      else await send(conn, answer(req));
    }
  });
}

async function text(res: Response): Promise<string> {
  return res.body ? await res.text() : "";
}

Deno.test("h1: bytes after a bodiless response never reach the next request", async (t) => {
  const cases: Array<[string, string, string]> = [
    ["HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
    ["204", "GET", "HTTP/1.1 204 No Content\r\n\r\n"],
    ["304", "GET", "HTTP/1.1 304 Not Modified\r\n\r\n"],
    ["100 then 204", "GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"],
  ];
  for (const [label, method, head] of cases) {
    await t.step(`${label} followed by a second response in the same write`, async () => {
      await using backend = backendAnswering((_req, conn) => send(conn, head + SMUGGLED));
      using h1 = h1Transport(options);
      const first = await h1.fetch(new Request(`${backend.url}/first`, { method }));
      assert.equal(first.body, null);
      assert.equal(await text(await h1.fetch(new Request(`${backend.url}/second`))), "for /second");
      assert.equal(backend.accepted, 2, "the first connection was not reused");
    });
  }
});

Deno.test("h1: a bodiless response that announces a body does not keep its connection", async (t) => {
  const cases: Array<[string, string, string]> = [
    ["HEAD with a Content-Length", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n"],
    [
      "HEAD with chunked framing",
      "HEAD",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
    ["304 with a Content-Length", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 8\r\n\r\n"],
  ];
  for (const [label, method, head] of cases) {
    await t.step(`${label}, its body sent only once the head was answered`, async () => {
      const headSent = Promise.withResolvers<void>();
      const answered = Promise.withResolvers<void>();
      await using backend = backendAnswering(async (_req, conn) => {
        await send(conn, head);
        headSent.resolve();
        // The body comes late, after the transport handed the head on.
        await answered.promise;
        await send(conn, "smuggled").catch(() => {});
      });
      using h1 = h1Transport(options);
      const first = await h1.fetch(new Request(`${backend.url}/first`, { method }));
      assert.equal(first.body, null);
      await headSent.promise;
      const second = h1.fetch(new Request(`${backend.url}/second`));
      answered.resolve();
      assert.equal(await text(await second), "for /second");
      assert.equal(backend.accepted, 2);
    });
  }
  await t.step("while Content-Length: 0 keeps it", async () => {
    await using backend = backendAnswering((_req, conn) =>
      send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    );
    using h1 = h1Transport(options);
    await h1.fetch(new Request(`${backend.url}/first`, { method: "HEAD" }));
    assert.equal(await text(await h1.fetch(new Request(`${backend.url}/second`))), "for /second");
    assert.equal(backend.accepted, 1);
  });
});

Deno.test("h1: bytes after the end of a body close the connection", async (t) => {
  const cases: Array<[string, string]> = [
    ["a length-delimited body and a second response", "for /first" + SMUGGLED],
    ["a length-delimited body and extra CRLFs", "for /first\r\n\r\n"],
  ];
  for (const [label, tail] of cases) {
    await t.step(label, async () => {
      await using backend = backendAnswering((_req, conn) =>
        send(conn, `HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n${tail}`)
      );
      using h1 = h1Transport(options);
      assert.equal(await text(await h1.fetch(new Request(`${backend.url}/first`))), "for /first");
      assert.equal(await text(await h1.fetch(new Request(`${backend.url}/second`))), "for /second");
      assert.equal(backend.accepted, 2);
    });
  }
  await t.step("a chunked body and a second response", async () => {
    await using backend = backendAnswering((_req, conn) =>
      send(
        conn,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nfor /first\r\n0\r\n\r\n" +
          SMUGGLED,
      )
    );
    using h1 = h1Transport(options);
    assert.equal(await text(await h1.fetch(new Request(`${backend.url}/first`))), "for /first");
    assert.equal(await text(await h1.fetch(new Request(`${backend.url}/second`))), "for /second");
    assert.equal(backend.accepted, 2);
  });
});

Deno.test("h1: anything arriving on an idle pooled connection closes it", async (t) => {
  const lates: Array<[string, string]> = [
    ["a late second response", SMUGGLED],
    ["a stray CRLF", "\r\n"],
  ];
  for (const [label, late] of lates) {
    await t.step(label, async () => {
      const closedByAegis = Promise.withResolvers<void>();
      await using backend = backendAnswering(async (req, conn) => {
        await send(conn, answer(req));
        await new Promise((r) => setTimeout(r, 20));
        await send(conn, late);
        // The transport must hang up on its own.
        const buf = new Uint8Array(16);
        while ((await conn.read(buf).catch(() => null)) !== null) {
          // Nothing should come: no request may be sent on this connection.
        }
        closedByAegis.resolve();
      });
      using h1 = h1Transport(options);
      assert.equal(await text(await h1.fetch(new Request(`${backend.url}/first`))), "for /first");
      await within(closedByAegis.promise, "the transport closed the idle connection");
      assert.equal(h1.pools()[0]!.unsolicited, 1);
      assert.equal(await text(await h1.fetch(new Request(`${backend.url}/second`))), "for /second");
      assert.equal(backend.accepted, 2);
    });
  }
  await t.step("the backend closing it", async () => {
    await using backend = backendAnswering(async (req, conn) => {
      await send(conn, answer(req));
      conn.close();
    });
    using h1 = h1Transport(options);
    await text(await h1.fetch(new Request(`${backend.url}/first`)));
    await until(() => h1.pools()[0]!.unsolicited === 1, "the idle close noticed");
    assert.equal(h1.pools()[0]!.open, 0);
    // A POST cannot be resent after a keep-alive race; here there is none.
    const post = await h1.fetch(new Request(`${backend.url}/post`, { method: "POST", body: "x" }));
    assert.equal(await text(post), "for /post");
  });
});

Deno.test("h1: a response that ends before its request body is sent does not keep its connection", async () => {
  // The first connection is answered as soon as its head is in, and its
  // (large) body is never read: the upload cannot finish.
  const body = new Uint8Array(8 * 1024 * 1024);
  let connections = 0;
  await using backend = startRawBackend(async (conn) => {
    if (connections++ > 0) {
      const req = await new RequestReader(conn).next();
      if (req) await send(conn, answer(req));
      return;
    }
    await readRequestHead(conn);
    await send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfor /upload");
    await waitForClose(conn);
  });
  using h1 = h1Transport(options);
  const early = await h1.fetch(
    new Request(`${backend.url}/upload`, {
      method: "PUT",
      body: new Blob([body]).stream(),
      duplex: "half",
    } as RequestInit),
  );
  assert.equal(await text(early), "for /upload");
  assert.equal(await text(await h1.fetch(new Request(`${backend.url}/second`))), "for /second");
  assert.equal(backend.accepted, 2);
});

Deno.test("h1: a truncated body closes its connection and the next request gets its own answer", async () => {
  await using backend = backendAnswering((_req, conn) =>
    send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(70_000)).then(() =>
      conn.close()
    )
  );
  using h1 = h1Transport(options);
  const res = await h1.fetch(new Request(`${backend.url}/first`));
  await assert.rejects(res.text());
  assert.equal(await text(await h1.fetch(new Request(`${backend.url}/second`))), "for /second");
  assert.equal(backend.accepted, 2);
});
