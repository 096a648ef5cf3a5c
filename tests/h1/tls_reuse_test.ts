/**
 * Pooled TLS connections to an `https` backend are the same security
 * boundary as plain ones: the h1 transport against a raw TLS backend that
 * sends bytes nobody asked for, and against certificates it must refuse.
 */

import assert from "node:assert/strict";
import { h1Transport } from "../../src/h1/mod.ts";
import { H1_TEST_OPTIONS } from "./_options.ts";
import { send, serveRaw } from "../_helpers/raw.ts";
import { createPki, type IssuedFiles } from "../_helpers/tls.ts";
import { RequestReader, type WireRequest, within } from "../_helpers/wire.ts";
import { until } from "../_helpers/load.ts";

const SMUGGLED = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled";

function answer(req: WireRequest): string {
  const body = `for ${req.target}`;
  return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/** A raw keep-alive TLS backend: the first request is answered by `first`, the rest honestly. */
function tlsBackendAnswering(
  files: IssuedFiles,
  first: (req: WireRequest, conn: Deno.TlsConn) => Promise<void>,
) {
  let requests = 0;
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: Deno.readTextFileSync(files.certFile),
    key: Deno.readTextFileSync(files.keyFile),
  });
  return serveRaw(listener, async (conn) => {
    const reader = new RequestReader(conn);
    for (;;) {
      const req = await reader.next();
      if (!req) return;
      if (requests++ === 0) await first(req, conn);
      else await send(conn, answer(req));
    }
  }, "https");
}

Deno.test("h1 over TLS: bytes a backend sends past a response never reach the next request", async (t) => {
  await using pki = await createPki();
  const files = await pki.issue("backend", ["127.0.0.1"]);
  const options = { ...H1_TEST_OPTIONS, tls: { caCerts: [Deno.readTextFileSync(pki.caFile)] } };
  await t.step("a second response in the same write as a HEAD answer", async () => {
    await using backend = tlsBackendAnswering(
      files,
      (_req, conn) => send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" + SMUGGLED),
    );
    using h1 = h1Transport(options);
    const head = await h1.fetch(new Request(`${backend.url}/first`, { method: "HEAD" }));
    assert.equal(head.body, null);
    const next = await h1.fetch(new Request(`${backend.url}/second`));
    assert.equal(await next.text(), "for /second");
    assert.equal(backend.accepted, 2, "the first connection was not reused");
  });
  await t.step("a late second response while the connection is idle", async () => {
    const idle = Promise.withResolvers<void>();
    const closedByAegis = Promise.withResolvers<void>();
    await using backend = tlsBackendAnswering(files, async (req, conn) => {
      await send(conn, answer(req));
      await idle.promise;
      await send(conn, SMUGGLED);
      const buf = new Uint8Array(16);
      while ((await conn.read(buf).catch(() => null)) !== null) {
        // Nothing may come: no request is sent on this connection again.
      }
      closedByAegis.resolve();
    });
    using h1 = h1Transport(options);
    assert.equal(await (await h1.fetch(new Request(`${backend.url}/first`))).text(), "for /first");
    await until(() => h1.pools()[0]!.idle === 1, "the connection back in the pool");
    idle.resolve();
    await within(closedByAegis.promise, "the transport closed the idle connection");
    assert.equal(h1.pools()[0]!.unsolicited, 1);
    assert.equal(
      await (await h1.fetch(new Request(`${backend.url}/second`))).text(),
      "for /second",
    );
    assert.equal(backend.accepted, 2);
  });
  await t.step("an honest backend: one TLS connection carries them all", async () => {
    await using backend = tlsBackendAnswering(files, (req, conn) => send(conn, answer(req)));
    using h1 = h1Transport(options);
    for (const path of ["/a", "/b", "/c"]) {
      assert.equal(
        await (await h1.fetch(new Request(`${backend.url}${path}`))).text(),
        `for ${path}`,
      );
    }
    assert.equal(backend.accepted, 1);
    assert.equal(h1.pools()[0]!.origin, backend.url);
  });
});

Deno.test("h1 over TLS: a certificate it cannot verify is a connect failure, and nothing is sent", async () => {
  await using pki = await createPki();
  const files = await pki.issue("backend", ["127.0.0.1"]);
  let requests = 0;
  await using backend = tlsBackendAnswering(files, () => {
    requests++;
    return Promise.resolve();
  });
  // No ca_file: the test CA is in no root store.
  using h1 = h1Transport(H1_TEST_OPTIONS);
  const error = await h1.fetch(new Request(`${backend.url}/`)).then(() => undefined, (e) => e);
  assert.equal(error?.kind, "connect");
  assert.match(
    error.message,
    /^TLS handshake with 127\.0\.0\.1:\d+ \(server name 127\.0\.0\.1\) failed: .*UnknownIssuer/,
  );
  assert.equal(requests, 0);
});
