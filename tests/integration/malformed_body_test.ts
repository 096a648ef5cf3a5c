/**
 * Chunked request bodies with broken framing, over real sockets: the head
 * first, the bad chunk once Aegis is handling the request (how real uploads
 * arrive), and both in one write (which the runtime refuses before Aegis
 * sees the request).
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { readBody, startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { connect, readUntilClose, send } from "../_helpers/raw.ts";

const HEAD = "POST /upload HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n";

/** Broken chunked framing, each after the head (RFC 9112 §7.1). */
const BAD_CHUNKS: ReadonlyArray<[string, string]> = [
  ["a chunk size that is not hex", "zz\r\nabc\r\n0\r\n\r\n"],
  ["a chunk size that overflows 64 bits", "ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"],
  ["chunk data not followed by CRLF", "3\r\nabcXY0\r\n\r\n"],
  ["a valid chunk, then a size that is not hex", "3\r\nabc\r\nzz\r\n"],
];

/** `n` bytes of valid chunks, 16 KiB each. */
function chunks(n: number): string {
  let out = "";
  for (let left = n; left > 0; left -= 16384) {
    const size = Math.min(16384, left);
    out += `${size.toString(16)}\r\n${"a".repeat(size)}\r\n`;
  }
  return out;
}

/** The value of the reject counter `reason` in `/metrics`. */
async function rejectedInMetrics(adminUrl: string, reason: string): Promise<number | undefined> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const m = new RegExp(
    `^proxy_requests_rejected_total\\{listener="default",reason="${reason}"\\} (\\d+)$`,
    "m",
  )
    .exec(text);
  return m ? Number(m[1]) : undefined;
}

Deno.test(
  "Aegis answers 400 to a chunked body with broken framing, logs it and counts it",
  async (t) => {
    await using backend = startBackend();
    await using proxy = startTestAegis(await testConfig([backend.url]));
    for (const [name, bad] of BAD_CHUNKS) {
      await t.step(name, async () => {
        const before = proxy.accessLogs().length;
        const conn = await connect(proxy.port);
        await send(conn, HEAD);
        // The bad chunk must come after Aegis has the request, as it does for real uploads.
        await until(() => proxy.aegis.server.requestsInFlight === 1, "the request is in progress");
        await send(conn, bad);
        const result = await readUntilClose(conn, 5000);
        assert.equal(result.status, 400, result.text);
        assert.match(result.text, /\r\nx-content-type-options: nosniff\r\n/i);
        assert.match(result.text, /\r\nconnection: close\r\n/i);
        assert.match(result.text, /\{"error":"bad request"\}$/);
        assert.equal(result.closed, true, "the connection is not reused");
        await until(() => proxy.accessLogs().length > before, "the access log line");
        const line = proxy.accessLogs().at(-1)!;
        assert.equal(line.status, 400);
        assert.equal(line.reason, "malformed_body");
        assert.equal(line.path, "/upload");
      });
    }
    assert.equal(backend.received.length, 0, "nothing reached the backend");
    proxy.aegis.refreshSnapshot();
    assert.equal(await rejectedInMetrics(proxy.adminUrl, "malformed_body"), BAD_CHUNKS.length);
    const res = await fetch(proxy.url);
    assert.equal(await res.text(), "ok", "Aegis keeps serving");
  },
);

Deno.test(
  "Aegis answers 400, not 502, when a streamed upload's framing breaks, and blames no backend",
  async () => {
    let backendRead = 0;
    await using backend = startBackend(async (req, seen) => {
      try {
        await readBody(req, seen);
      } catch {
        // Aegis aborts the upload; that is the point.
      }
      backendRead = seen.bodyBytes;
      return new Response("read");
    });
    await using proxy = startTestAegis(await testConfig([backend.url]));
    const conn = await connect(proxy.port);
    // Past the 64 KiB Aegis reads first: this body is streaming to the backend.
    await send(conn, HEAD + chunks(80 * 1024));
    await until(() => backend.received.length === 1, "the upload reaches the backend");
    await send(conn, "zz\r\n");
    const result = await readUntilClose(conn, 5000);
    assert.equal(result.status, 400, result.text);
    assert.match(result.text, /\r\nx-content-type-options: nosniff\r\n/i);
    await until(() => proxy.accessLogs().length === 1, "the access log line");
    assert.equal(proxy.accessLogs()[0]!.reason, "malformed_body");
    assert.equal(proxy.aegis.stats.get("default").rejects.get("malformed_body"), 1);
    const state = proxy.aegis.pool.states[0]!;
    await until(() => state.stats.inFlight === 0, "the attempt ended");
    assert.equal(state.stats.errors, 0, "the backend is not blamed");
    assert.equal(proxy.logs.some((l) => l.msg === "backend request failed"), false);
    assert.ok(backendRead <= 80 * 1024, `the backend read ${backendRead} bytes`);
  },
);

Deno.test(
  "Aegis logs and counts a malformed chunk that arrives with its head, which the runtime refuses",
  async () => {
    await using backend = startBackend();
    await using proxy = startTestAegis(await testConfig([backend.url]));
    const conn = await connect(proxy.port);
    await send(conn, HEAD + "zz\r\nabc\r\n0\r\n\r\n");
    const result = await readUntilClose(conn, 5000);
    // The runtime closes the connection before any handler runs: no answer can be written.
    assert.equal(result.status, undefined, result.text);
    assert.equal(result.closed, true);
    await until(
      () =>
        proxy.logs.some((l) =>
          l.msg === "malformed request body, connection closed by the HTTP engine"
        ),
      "the warning line",
    );
    const warning = proxy.logs.find((l) => l.reason === "malformed_body")!;
    assert.equal(warning.level, "warn");
    assert.equal(warning.client, "127.0.0.0", "the client address is masked");
    assert.equal(proxy.aegis.stats.get("default").rejects.get("malformed_body"), 1);
    assert.equal(proxy.accessLogs().length, 0, "there was no request to log");
    assert.equal(backend.received.length, 0);
  },
);

Deno.test(
  "Aegis still counts a client that leaves mid-body as gone, not as a malformed body",
  async () => {
    await using backend = startBackend();
    await using proxy = startTestAegis(await testConfig([backend.url]));
    const conn = await connect(proxy.port);
    await send(conn, HEAD);
    await until(() => proxy.aegis.server.requestsInFlight === 1, "the request is in progress");
    await send(conn, "10\r\nabc");
    conn.close();
    await until(() => proxy.accessLogs().length === 1, "the access log line");
    assert.equal(proxy.accessLogs()[0]!.reason, "client_closed");
    assert.equal(proxy.aegis.stats.get("default").rejects.get("malformed_body"), undefined);
    assert.equal(backend.received.length, 0);
  },
);
