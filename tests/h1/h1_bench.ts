/**
 * Cost of the HTTP/1.1 wire format on the upstream path: parsing a typical
 * response head, decoding a 64 KiB chunked body that arrives in 4 KiB
 * reads, and writing a typical proxied request head. Inputs are built up
 * front so each case times only the code under test.
 *
 * @module
 */

import { ChunkedDecoder } from "../../src/h1/chunked.ts";
import { parseResponseHead } from "../../src/h1/parse.ts";
import { encodeChunk, LAST_CHUNK, serializeRequestHead } from "../../src/h1/serialize.ts";

const encoder = new TextEncoder();

const TYPICAL_HEAD = encoder.encode(
  "HTTP/1.1 200 OK\r\n" +
    "Date: Tue, 15 Nov 1994 08:12:31 GMT\r\n" +
    "Server: nginx/1.27.0\r\n" +
    "Content-Type: application/json; charset=utf-8\r\n" +
    "Content-Length: 1234\r\n" +
    "Connection: keep-alive\r\n" +
    "Cache-Control: private, max-age=0\r\n" +
    'ETag: W/"4d2-5f1c3a"\r\n' +
    "Vary: Accept-Encoding\r\n" +
    "X-Request-Id: 0b9f6f2e-8f0e-4c1a-9d43-2a7c0f6b1e55\r\n" +
    "Set-Cookie: session=abc123; Path=/; HttpOnly; Secure\r\n\r\n",
);
const OPTIONS = { maxHeaderBytes: 16_384, requestMethod: "GET" };

Deno.bench("parseResponseHead() on a typical 200 head (11 fields, ~450 B)", () => {
  parseResponseHead(TYPICAL_HEAD, OPTIONS);
});

/** A 64 KiB body in 4 KiB chunks, then cut into 4 KiB reads that straddle the chunk lines. */
const READS = (() => {
  const body = new Uint8Array(64 * 1024).fill(0x61);
  const parts: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += 4096) {
    parts.push(...encodeChunk(body.subarray(at, at + 4096)));
  }
  parts.push(LAST_CHUNK);
  const wire = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    wire.set(p, at);
    at += p.length;
  }
  const reads: Uint8Array[] = [];
  for (let i = 0; i < wire.length; i += 4096) reads.push(wire.subarray(i, i + 4096));
  return reads;
})();

Deno.bench("ChunkedDecoder on a 64 KiB body in 4 KiB chunks, read 4 KiB at a time", () => {
  const decoder = new ChunkedDecoder();
  for (const read of READS) decoder.push(read);
  if (!decoder.done) throw new Error("the body did not end");
});

const REQUEST_HEADERS: Array<[string, string]> = [
  ["host", "10.0.0.7:8080"],
  ["user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"],
  ["accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
  ["accept-encoding", "gzip, deflate, br"],
  ["accept-language", "en-US,en;q=0.9"],
  ["cookie", "session=abc123; theme=dark"],
  ["x-forwarded-for", "203.0.113.7"],
  ["x-forwarded-proto", "https"],
  ["x-forwarded-host", "example.com"],
  ["x-request-id", "0b9f6f2e-8f0e-4c1a-9d43-2a7c0f6b1e55"],
];

Deno.bench("serializeRequestHead() on a typical proxied GET (10 fields)", () => {
  serializeRequestHead("GET", "/api/v1/items?page=2&sort=desc", REQUEST_HEADERS);
});
