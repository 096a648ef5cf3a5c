/**
 * The same requests through both upstream transports: what the backend
 * receives and what the client gets must match, apart from the documented
 * differences of the runtime's fetch (defaults it adds, chunked uploads).
 */

import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";

/**
 * Headers that legitimately differ per request or per transport: framing,
 * and content coding (the fetch transport asks backends for identity, since
 * the runtime's fetch would decode a compressed body on its own).
 */
const VOLATILE = new Set([
  "date",
  "x-request-id",
  "content-length",
  "transfer-encoding",
  "accept-encoding",
  "content-encoding",
]);

interface Seen {
  method: string;
  target: string;
  headers: Record<string, string>;
  bodyBytes: number;
  bodySum: number;
}

function sum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s = (s * 31 + b) >>> 0;
  return s;
}

function plainHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of h) {
    if (!VOLATILE.has(k)) {
      out[k] = k === "set-cookie" ? h.getSetCookie().join(" | ") : v;
    }
  }
  return out;
}

const TEXT = "compressed ".repeat(500);
const GZ = new Uint8Array(gzipSync(new TextEncoder().encode(TEXT)));

Deno.test("both transports deliver the same requests to backends and the same responses to clients", async () => {
  const seen: Seen[] = [];
  await using backend = startBackend(async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const url = new URL(req.url);
    seen.push({
      method: req.method,
      target: url.pathname + url.search,
      headers: plainHeaders(req.headers),
      bodyBytes: body.byteLength,
      bodySum: sum(body),
    });
    const h = new Headers({ "x-app": "yes", "content-type": "text/plain" });
    h.append("set-cookie", "a=1; Path=/");
    h.append("set-cookie", "b=2; HttpOnly");
    switch (url.pathname) {
      case "/empty":
        return new Response(null, { status: 204, headers: h });
      case "/redirect":
        return new Response(null, { status: 302, headers: { location: "/elsewhere" } });
      case "/gzip":
        // A backend that compresses only when asked to.
        return /gzip/.test(req.headers.get("accept-encoding") ?? "")
          ? new Response(GZ, {
            headers: { "content-encoding": "gzip", "content-type": "text/plain" },
          })
          : new Response(TEXT, { headers: { "content-type": "text/plain" } });
      case "/stream":
        return new Response(new Blob([new Uint8Array(300_000).fill(7)]).stream(), { headers: h });
      case "/error":
        return new Response("nope", { status: 503, headers: h });
      default:
        return new Response(`echo ${req.method} ${body.byteLength}`, { headers: h });
    }
  });
  const explicit = {
    "user-agent": "differential/1",
    accept: "text/plain",
    "accept-encoding": "gzip",
  };
  const cases: Array<[string, RequestInit]> = [
    ["/plain?q=1&r=%20x", { headers: explicit }],
    ["/head", { method: "HEAD", headers: explicit }],
    ["/empty", { headers: explicit }],
    ["/redirect", { headers: explicit }],
    ["/gzip", { headers: explicit }],
    ["/stream", { headers: explicit }],
    ["/error", { headers: explicit }],
    ["/post-small", {
      method: "POST",
      body: "x".repeat(1234),
      headers: { ...explicit, "content-type": "text/plain" },
    }],
    ["/put-large", {
      method: "PUT",
      body: new Uint8Array(200_000).map((_, i) => i % 251),
      headers: explicit,
    }],
    ["/delete", {
      method: "DELETE",
      headers: { ...explicit, "x-custom": "one, two", cookie: "s=1; t=2" },
    }],
  ];
  const run = async (transport: string) => {
    seen.length = 0;
    const config = await testConfig([backend.url], {
      upstream: { transport },
      rate_limit: { exempt: ["127.0.0.0/8"] },
      health_check: { interval: "1h" },
    });
    await using proxy = startTestAegis(config);
    const clients = [];
    for (const [path, init] of cases) {
      const res = await fetch(proxy.url + path, { ...init, redirect: "manual" }).catch((e) => {
        throw new Error(`${transport} ${path}: ${e}`);
      });
      const body = new Uint8Array(
        await res.arrayBuffer().catch((e) => {
          throw new Error(`${transport} ${path}: ${e}`);
        }),
      );
      clients.push({
        path,
        status: res.status,
        headers: plainHeaders(res.headers),
        bodyBytes: body.byteLength,
        bodySum: sum(body),
      });
    }
    // Each run has its own proxy port, which the Host and X-Forwarded-Host carry.
    const backends = seen.map((b) => ({
      ...b,
      headers: Object.fromEntries(
        Object.entries(b.headers).map(([k, v]) => [k, v.replaceAll(`:${proxy.port}`, ":PROXY")]),
      ),
    }));
    return { clients, backends };
  };
  const viaFetch = await run("fetch");
  const viaH1 = await run("h1");
  assert.deepEqual(viaH1.clients, viaFetch.clients, "clients get the same answers");
  assert.equal(
    viaH1.backends.length,
    cases.length,
    JSON.stringify(viaH1.backends.map((b) => b.target)),
  );
  assert.deepEqual(viaH1.backends, viaFetch.backends, "backends see the same requests");
});

Deno.test("compressed responses reach the client intact through either transport", async (t) => {
  await using backend = startBackend((req) =>
    /gzip/.test(req.headers.get("accept-encoding") ?? "")
      ? new Response(GZ, { headers: { "content-encoding": "gzip" } })
      : new Response(TEXT)
  );
  // A backend that compresses whatever it is asked.
  await using stubborn = startBackend(() =>
    new Response(GZ, { headers: { "content-encoding": "gzip" } })
  );
  const raw = async (port: number) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      new TextEncoder().encode(
        "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
      ),
    );
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (let n; (n = await conn.read(buf)) !== null;) chunks.push(buf.slice(0, n));
    conn.close();
    const all = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
    let off = 0;
    for (const c of chunks) (all.set(c, off), off += c.length);
    const split = new TextDecoder("latin1").decode(all).indexOf("\r\n\r\n");
    return {
      head: new TextDecoder("latin1").decode(all.subarray(0, split)).toLowerCase(),
      body: all.subarray(split + 4),
    };
  };
  for (const transport of ["h1", "fetch"]) {
    for (
      const [label, url] of [
        ["a backend that honours Accept-Encoding", backend.url],
        ["a backend that always compresses", stubborn.url],
      ] as const
    ) {
      await t.step(`${transport}, ${label}`, async () => {
        await using proxy = startTestAegis(
          await testConfig([url], { upstream: { transport }, health_check: { interval: "1h" } }),
        );
        const { head, body } = await raw(proxy.port);
        const declared = /content-length: (\d+)/.exec(head)?.[1];
        if (/content-encoding: gzip/.test(head)) {
          assert.deepEqual(body, GZ, "a body labelled gzip is the gzip bytes");
        } else {
          assert.equal(
            new TextDecoder().decode(body),
            TEXT,
            "an unlabelled body is the plain text",
          );
        }
        if (declared !== undefined) {
          assert.equal(Number(declared), body.length, "Content-Length matches the body");
        }
        if (transport === "h1") {
          assert.match(head, /content-encoding: gzip/, "h1 relays the compressed bytes");
        }
      });
    }
  }
});
