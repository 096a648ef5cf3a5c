/**
 * The thinnest reverse proxy this runtime can run, as the benchmark's
 * "deno floor" target: `Deno.serve` in front, a bare keep-alive HTTP/1.1
 * client over `Deno.connect` behind, round-robin, nothing else (no limits,
 * timeouts, header rewriting, metrics or parsing beyond `Content-Length`).
 * It is not a proxy anyone should run; it shows how much of the cost of
 * proxying on this machine is the runtime's own, so Aegis's distance to it
 * is the cost of Aegis's features.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 tests/bench/_floor_server.ts --backends 40001,40002
 * ```
 *
 * Prints `port N` once it listens on a free port of 127.0.0.1. Understands
 * exactly what the benchmark's backends send: every response carries a
 * `Content-Length`.
 *
 * With `--relay-headers` it is the "deno floor headers" target: the same,
 * plus what any proxy that passes headers on must ask of the runtime. It
 * reads the request's fields and forwards them with `X-Forwarded-For` and
 * an `X-Request-ID`, and it watches `request.signal` (to notice a client
 * that leaves). It relays the backend's response fields plus the seven
 * that Aegis sets on every response. Nothing is checked or rewritten
 * beyond that. The distance from the plain floor is the runtime's price
 * for headers; the distance from it to Aegis is Aegis's own.
 *
 * @module
 */

import { SECURITY_HEADERS } from "../../src/proxy/headers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const HEAD_END = enc.encode("\r\n\r\n");

const at = Deno.args.indexOf("--backends");
const ports = (at >= 0 ? Deno.args[at + 1] ?? "" : "").split(",").map(Number);
if (!ports.length || ports.some((p) => !Number.isInteger(p) || p < 1)) {
  console.error("usage: _floor_server.ts --backends PORT[,PORT…]");
  Deno.exit(2);
}
const relayHeaders = Deno.args.includes("--relay-headers");
/** Response fields the floor writes itself or drops, when relaying the backend's. */
const NOT_RELAYED = new Set(["connection", "keep-alive", "transfer-encoding"]);

/** The backend's response fields (the head after the status line), with the added ones. */
function responseFields(head: string, requestId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (!NOT_RELAYED.has(name)) out[name] = line.slice(colon + 1).trim();
  }
  // What Aegis sets on every response: its security headers, from their one definition.
  for (const name in SECURITY_HEADERS) out[name] = SECURITY_HEADERS[name]!;
  out["x-request-id"] = requestId;
  return out;
}

const idle: Deno.TcpConn[][] = ports.map(() => []);
let next = 0;

function indexOf(buf: Uint8Array, end: number, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= end; i++) {
    for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function open(k: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: ports[k]! });
  conn.setNoDelay(true);
  return conn;
}

/** Sends one request on a pooled connection and reads its response whole. */
async function exchange(
  k: number,
  head: string,
  body: Uint8Array | null,
  requestId: string | undefined,
): Promise<Response> {
  const conn = idle[k]!.pop() ?? await open(k);
  let buf = new Uint8Array(16 * 1024);
  try {
    // Head and body in one write: two small writes would meet delayed ACKs.
    const headBytes = enc.encode(head);
    const out = new Uint8Array(headBytes.length + (body?.length ?? 0));
    out.set(headBytes);
    if (body) out.set(body, headBytes.length);
    for (let off = 0; off < out.length;) off += await conn.write(out.subarray(off));
    let got = 0;
    let bodyAt = -1;
    let length = 0;
    let responseHead = "";
    for (;;) {
      if (got === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      const n = await conn.read(buf.subarray(got));
      if (n === null) throw new Error("backend closed the connection");
      got += n;
      if (bodyAt < 0) {
        const end = indexOf(buf, got, HEAD_END);
        if (end < 0) continue;
        bodyAt = end + 4;
        responseHead = dec.decode(buf.subarray(0, end));
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(responseHead);
        if (!m) throw new Error("the floor proxy needs Content-Length");
        length = Number(m[1]);
      }
      if (got < bodyAt + length) continue;
      idle[k]!.push(conn);
      const status = Number(dec.decode(buf.subarray(9, 12)));
      const headers = requestId === undefined ? undefined : responseFields(responseHead, requestId);
      return new Response(buf.subarray(bodyAt, bodyAt + length), { status, headers });
    }
  } catch (e) {
    conn.close();
    throw e;
  }
}

const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  async (request) => {
    const url = new URL(request.url);
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : null;
    const k = next++ % ports.length;
    let fields = "";
    let requestId: string | undefined;
    if (relayHeaders) {
      request.headers.forEach((value, name) => {
        if (name !== "host" && name !== "connection" && name !== "content-length") {
          fields += `${name}: ${value}\r\n`;
        }
      });
      requestId = crypto.randomUUID();
      fields += `x-forwarded-for: 127.0.0.1\r\nx-request-id: ${requestId}\r\n`;
      request.signal.addEventListener("abort", () => {}, { once: true });
    }
    const head = `${request.method} ${url.pathname}${url.search} HTTP/1.1\r\n` +
      `host: 127.0.0.1:${ports[k]}\r\n` + fields +
      (body ? `content-length: ${body.length}\r\n` : "") + "\r\n";
    return await exchange(k, head, body, requestId);
  },
);
console.log(`port ${server.addr.port}`);
