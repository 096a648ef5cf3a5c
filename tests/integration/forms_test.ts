/**
 * The flat seed file and its expanded form are one configuration: they
 * resolve to the same value, and two Aegis started from them answer the
 * same requests the same way, over real sockets.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { parseTestConfig } from "../_helpers/config.ts";
import { rawExchange } from "../_helpers/raw.ts";

const LIMITS = {
  max_body_bytes: 100,
  // One token per 1000 s: nothing refills while the test runs.
  rate_limit: { requests_per_second: 0.001, burst: 6 },
  adaptive: { min_rate: 0.001 },
  security: { allowed_hosts: ["127.0.0.1"] },
};

function flat(backend: string) {
  return parseTestConfig({
    server: { host: "127.0.0.1", port: 0, max_body_bytes: LIMITS.max_body_bytes },
    backends: [{ url: backend, weight: 1 }],
    rate_limit: LIMITS.rate_limit,
    adaptive: LIMITS.adaptive,
    security: LIMITS.security,
    health_check: { interval: "1h" },
  });
}

function expanded(backend: string) {
  return parseTestConfig({
    listeners: [{
      name: "default",
      address: "127.0.0.1:0",
      ...LIMITS,
      routes: [{ pool: "default" }],
    }],
    pools: {
      default: { backends: [{ url: backend, weight: 1 }], health_check: { interval: "1h" } },
    },
  });
}

/** What a client and the backend saw of one exchange, without what differs by design (ids, ports). */
async function exchange(
  url: string,
  init: RequestInit & { client?: Deno.HttpClient },
  received: () => string,
) {
  const res = await fetch(url, init);
  const body = await res.text();
  return {
    status: res.status,
    body,
    server: res.headers.get("server"),
    frame: res.headers.get("x-frame-options"),
    allow: res.headers.get("allow"),
    retryAfter: res.headers.get("retry-after"),
    backend: received(),
  };
}

Deno.test("the flat seed file and its expanded form resolve alike and answer alike", async () => {
  const seen: string[] = [];
  await using backend = startBackend((request, r) => {
    seen.push(`${request.method} ${r.target} ${r.headers.get("x-forwarded-for")}`);
    return new Response(`hello ${r.target}`);
  });
  const a = await flat(backend.url);
  const b = await expanded(backend.url);
  assert.deepEqual(a, b);

  using client = Deno.createHttpClient({ allowHost: true });
  const run = async (config: typeof a) => {
    await using proxy = startTestAegis(config);
    const last = () => seen.splice(0).join("; ");
    const out: Array<Record<string, unknown>> = [];
    const requests: Array<[string, RequestInit & { client?: Deno.HttpClient }]> = [
      ["/hello?x=1", {}],
      ["/upload", { method: "POST", body: "small" }],
      ["/dav", { method: "PROPFIND" }],
      ["/big", { method: "POST", body: "x".repeat(1000) }],
      ["/elsewhere", { client, headers: { host: "evil.example" } }],
      ["/one", {}],
      ["/two", {}],
      ["/three", {}],
      ["/four", {}],
      ["/five", {}],
    ];
    for (const [path, init] of requests) out.push(await exchange(proxy.url + path, init, last));
    // fetch would resolve the dot segments itself: the traversal goes over a raw socket.
    const raw = await rawExchange(
      proxy.port,
      "GET /a/%2e%2e/etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    out.push({ status: raw.status, body: raw.text.slice(raw.text.indexOf("\r\n\r\n") + 4) });
    return out;
  };
  const fromFlat = await run(a);
  const fromExpanded = await run(b);
  assert.deepEqual(fromExpanded, fromFlat);
  // And what they did is what the seed's flat file does.
  assert.deepEqual(fromFlat.map((x) => x.status), [
    200, // forwarded, query kept
    200, // a small body
    405, // a method not allowed
    413, // a body over max_body_bytes
    400, // a Host not allowed
    200,
    200,
    200,
    200, // the sixth request that passed validation: the burst of 6 is spent
    429,
    400, // traversal, refused before the rate limiter
  ]);
  assert.equal(fromFlat[0]!.backend, "GET /hello?x=1 127.0.0.1");
  assert.match(String(fromFlat.at(-1)!.body), /"invalid path"/);
});
