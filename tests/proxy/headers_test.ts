import assert from "node:assert/strict";
import {
  applySecurityHeaders,
  clientHeaders,
  HOP_BY_HOP_REQUEST,
  HOP_BY_HOP_RESPONSE,
  hstsValue,
  requestIdFrom,
  SECURITY_HEADERS,
  stripHopByHop,
  stsRule,
  type UpstreamHeaderInput,
  upstreamHeaders,
} from "../../src/proxy/headers.ts";
import { fieldList, fieldValue, type HeaderFields } from "../../src/core/mod.ts";

const none = { permissions: "none" } as const;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The upstream headers, as a `Headers` to query. */
const up = (incoming: HeaderFields, input: UpstreamHeaderInput) =>
  new Headers(upstreamHeaders(incoming, input));
/** The client headers, as a `Headers` to query. */
const down = (upstream: HeaderFields, requestId: string) =>
  new Headers(clientHeaders(upstream, requestId));

const INPUT: UpstreamHeaderInput = {
  clientIp: "203.0.113.7",
  requestId: "req-1",
  proto: "https",
  host: "example.com",
  preserveHost: true,
};

Deno.test("stripHopByHop() removes the listed headers", none, () => {
  const h = new Headers({
    "keep-alive": "timeout=5",
    upgrade: "websocket",
    te: "trailers",
    accept: "*/*",
  });
  const out = new Headers(stripHopByHop(h, HOP_BY_HOP_REQUEST));
  assert.deepEqual([...out], [["accept", "*/*"]]);
});

Deno.test("stripHopByHop() removes every header named in Connection", none, async (t) => {
  await t.step("names separated by commas, with spaces and mixed case", () => {
    const h = new Headers({
      connection: "keep-alive, X-Secret ,x-other,,",
      "x-secret": "1",
      "x-other": "2",
      "x-kept": "3",
    });
    const out = new Headers(stripHopByHop(h, HOP_BY_HOP_REQUEST));
    assert.deepEqual([...out], [["x-kept", "3"]]);
  });
  await t.step("Connection itself goes too, being on the list", () => {
    const h = new Headers({ connection: "close" });
    const out = new Headers(stripHopByHop(h, HOP_BY_HOP_REQUEST));
    assert.equal(out.has("connection"), false);
  });
  await t.step("an empty Connection removes nothing else", () => {
    const h = new Headers({ connection: "", "x-a": "1" });
    const out = new Headers(stripHopByHop(h, HOP_BY_HOP_REQUEST));
    assert.deepEqual([...out], [["x-a", "1"]]);
  });
});

Deno.test("stripHopByHop() never lets Connection remove Host or Content-Length", none, () => {
  const h = new Headers({
    connection: "host, content-length, Host",
    host: "h",
    "content-length": "3",
  });
  const out = new Headers(stripHopByHop(h, HOP_BY_HOP_REQUEST));
  assert.deepEqual([...out], [["content-length", "3"], ["host", "h"]]);
});

Deno.test("up() strips every hop-by-hop request header", none, () => {
  const incoming = new Headers({ accept: "*/*" });
  for (const name of HOP_BY_HOP_REQUEST) incoming.set(name, name === "connection" ? "x-hop" : "v");
  incoming.set("x-hop", "v");
  const h = up(incoming, INPUT);
  for (const name of [...HOP_BY_HOP_REQUEST, "x-hop"]) assert.equal(h.has(name), false, name);
  assert.equal(h.get("accept"), "*/*");
});

Deno.test("up() does not modify the incoming headers", none, () => {
  const incoming = new Headers({ connection: "close", "x-forwarded-for": "1.1.1.1", host: "a" });
  const before = [...incoming];
  up(incoming, { ...INPUT, preserveHost: false });
  assert.deepEqual([...incoming], before);
});

Deno.test("up() sets X-Forwarded-For to the socket peer", none, async (t) => {
  await t.step("without a chain", () => {
    assert.equal(up(new Headers(), INPUT).get("x-forwarded-for"), "203.0.113.7");
  });
  await t.step("appended to an existing chain", () => {
    const incoming = new Headers({ "x-forwarded-for": "198.51.100.1, 10.0.0.1" });
    assert.equal(
      up(incoming, INPUT).get("x-forwarded-for"),
      "198.51.100.1, 10.0.0.1, 203.0.113.7",
    );
  });
  await t.step("an empty header counts as no chain", () => {
    const incoming = new Headers({ "x-forwarded-for": "" });
    assert.equal(up(incoming, INPUT).get("x-forwarded-for"), "203.0.113.7");
  });
  await t.step("an IPv6 peer", () => {
    const h = up(new Headers(), { ...INPUT, clientIp: "2001:db8::1" });
    assert.equal(h.get("x-forwarded-for"), "2001:db8::1");
  });
});

Deno.test(
  "up() overwrites X-Forwarded-Proto, X-Forwarded-Host and X-Request-ID",
  none,
  () => {
    const incoming = new Headers({
      "x-forwarded-proto": "ftp",
      "x-forwarded-host": "evil.example",
      "x-request-id": "client-chosen",
    });
    const h = up(incoming, INPUT);
    assert.equal(h.get("x-forwarded-proto"), "https");
    assert.equal(h.get("x-forwarded-host"), "example.com");
    assert.equal(h.get("x-request-id"), "req-1");
  },
);

Deno.test("up() keeps or drops Host according to preserveHost", none, async (t) => {
  await t.step("preserveHost: true sends the client's host", () => {
    const h = up(new Headers({ host: "other" }), { ...INPUT, preserveHost: true });
    assert.equal(h.get("host"), "example.com");
  });
  await t.step("preserveHost: true sets Host even when the client sent none", () => {
    assert.equal(up(new Headers(), INPUT).get("host"), "example.com");
  });
  await t.step("preserveHost: false removes Host so the backend's is used", () => {
    const h = up(new Headers({ host: "example.com" }), {
      ...INPUT,
      preserveHost: false,
    });
    assert.equal(h.has("host"), false);
    assert.equal(h.get("x-forwarded-host"), "example.com");
  });
});

Deno.test("up() keeps end-to-end headers", none, () => {
  const incoming = new Headers({
    authorization: "Bearer x",
    cookie: "a=1",
    "content-type": "application/json",
    "content-length": "2",
  });
  const h = up(incoming, INPUT);
  assert.equal(h.get("authorization"), "Bearer x");
  assert.equal(h.get("cookie"), "a=1");
  assert.equal(h.get("content-type"), "application/json");
  assert.equal(h.get("content-length"), "2");
});

Deno.test("down() strips hop-by-hop response headers and X-Powered-By", none, () => {
  const upstream = new Headers({ "content-type": "text/plain", "x-powered-by": "PHP/8" });
  for (const name of HOP_BY_HOP_RESPONSE) {
    upstream.set(name, name === "connection" ? "x-internal" : "v");
  }
  upstream.set("x-internal", "secret");
  const h = down(upstream, "req-1");
  for (const name of [...HOP_BY_HOP_RESPONSE, "x-internal", "x-powered-by"]) {
    assert.equal(h.has(name), false, name);
  }
  assert.equal(h.get("content-type"), "text/plain");
});

Deno.test("down() keeps every Set-Cookie separately", none, () => {
  const upstream = new Headers();
  upstream.append("set-cookie", "a=1; Path=/");
  upstream.append("set-cookie", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT");
  const h = down(upstream, "req-1");
  assert.deepEqual(h.getSetCookie(), ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT"]);
});

Deno.test("down() sets the security headers over the backend's own values", none, () => {
  const upstream = new Headers({
    server: "nginx/1.2",
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "none",
    "x-xss-protection": "1; mode=block",
    "referrer-policy": "unsafe-url",
    "permissions-policy": "camera=*",
    "x-request-id": "backend-chosen",
  });
  const h = down(upstream, "req-1");
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    assert.equal(h.get(name), value, name);
  }
  assert.equal(h.get("server"), "aegis");
  assert.equal(h.get("x-frame-options"), "DENY");
  assert.equal(h.get("x-content-type-options"), "nosniff");
  assert.equal(h.get("x-request-id"), "req-1");
});

Deno.test("down() does not modify the backend's headers", none, () => {
  const upstream = new Headers({ connection: "close", server: "nginx" });
  const before = [...upstream];
  down(upstream, "req-1");
  assert.deepEqual([...upstream], before);
});

Deno.test("upstreamHeaders() reads a field list in any case, joining repeated fields", none, () => {
  const list: Array<[string, string]> = [
    ["Connection", "X-Hop"],
    ["X-Hop", "1"],
    ["X-Forwarded-For", "198.51.100.1"],
    ["x-forwarded-for", "10.0.0.1"],
    ["Accept", "*/*"],
    ["Host", "client-chosen"],
  ];
  const h = upstreamHeaders(list, INPUT);
  assert.deepEqual(h, [
    ["Accept", "*/*"],
    ["x-forwarded-for", "198.51.100.1, 10.0.0.1, 203.0.113.7"],
    ["x-forwarded-proto", "https"],
    ["x-forwarded-host", "example.com"],
    ["x-request-id", "req-1"],
    ["host", "example.com"],
  ]);
});

Deno.test("upstreamHeaders() never reads a chain the client listed in Connection", none, () => {
  const list: Array<[string, string]> = [
    ["connection", "x-forwarded-for"],
    ["x-forwarded-for", "198.51.100.1"],
  ];
  assert.equal(up(list, INPUT).get("x-forwarded-for"), "203.0.113.7");
});

Deno.test("clientHeaders() reads a backend's field list in any case, in order", none, () => {
  const list: Array<[string, string]> = [
    ["Content-Type", "text/plain"],
    ["CONNECTION", "X-Internal"],
    ["X-Internal", "secret"],
    ["X-Powered-By", "PHP/8"],
    ["Set-Cookie", "a=1"],
    ["Server", "nginx"],
    ["Set-Cookie", "b=2"],
  ];
  const h = clientHeaders(list, "req-1");
  assert.deepEqual(h.slice(0, 3), [
    ["Content-Type", "text/plain"],
    ["Set-Cookie", "a=1"],
    ["Set-Cookie", "b=2"],
  ]);
  const all = new Headers(h);
  assert.deepEqual(all.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(all.get("server"), "aegis");
  assert.equal(all.has("x-internal"), false);
  assert.equal(all.has("x-powered-by"), false);
});

Deno.test("requestIdFrom() keeps a plain client token", none, async (t) => {
  const ok = [
    "abc-123",
    "a",
    "A.b_c:d+e/f=g-h",
    "550e8400-e29b-41d4-a716-446655440000",
    "dGVzdA==",
    "x".repeat(128),
  ];
  for (const id of ok) {
    await t.step(id.length > 40 ? `${id.length} characters` : id, () => {
      assert.equal(requestIdFrom(new Headers({ "x-request-id": id })), id);
    });
  }
});

Deno.test(
  "requestIdFrom() generates a UUID v4 for a missing, long or hostile id",
  none,
  async (t) => {
    await t.step("missing", () => assert.match(requestIdFrom(new Headers()), UUID_V4));
    const bad = [
      "",
      "x".repeat(129),
      "a b",
      'x" injected=1 {}',
      "a,b",
      "a;b",
      "<script>",
      "a\tb",
      "é",
      "a%0ab",
      "${jndi:ldap://x}",
    ];
    for (const id of bad) {
      await t.step(JSON.stringify(id.length > 40 ? `${id.length} characters` : id), () => {
        assert.match(requestIdFrom(new Headers({ "x-request-id": id })), UUID_V4);
      });
    }
  },
);

Deno.test("requestIdFrom() generates a different id each time", none, () => {
  assert.notEqual(requestIdFrom(new Headers()), requestIdFrom(new Headers()));
});

Deno.test("requestIdFrom() reads a raw field list: any case, and two ids are none", none, () => {
  assert.equal(requestIdFrom([["X-Request-ID", "abc-123"], ["accept", "*/*"]]), "abc-123");
  // A repeated id would reach the backend as "a, b" through a Headers: not a token.
  assert.match(requestIdFrom([["x-request-id", "a"], ["X-Request-Id", "b"]]), UUID_V4);
  assert.match(requestIdFrom([["x-request-idx", "abc"]]), UUID_V4);
});

Deno.test("clientHeaders() shares the security pairs but never lets them be written", none, () => {
  const first = clientHeaders([["content-type", "text/plain"]], "id-1");
  const second = clientHeaders([], "id-2");
  const server = first.find(([name]) => name === "server")!;
  assert.equal(server, second.find(([name]) => name === "server"));
  assert.throws(() => {
    server[1] = "changed";
  }, TypeError);
  assert.equal(new Headers(second).get("server"), "aegis");
});

Deno.test("fieldList() gives exactly the pairs iterating the Headers gives", none, () => {
  const headers = new Headers([
    ["X-Custom", "b"],
    ["accept", "text/html"],
    ["Set-Cookie", "a=1"],
    ["x-custom", "a"],
    ["set-cookie", "b=2"],
    ["Content-Type", "text/plain"],
  ]);
  const list = fieldList(headers);
  assert.deepEqual(list, [...headers]);
  // Lower case, sorted, repeats joined, each Set-Cookie on its own.
  assert.deepEqual(list.map(([name]) => name), [
    "accept",
    "content-type",
    "set-cookie",
    "set-cookie",
    "x-custom",
  ]);
  assert.equal(list.find(([name]) => name === "x-custom")![1], "b, a");
  assert.deepEqual(fieldList(new Headers()), []);
});

Deno.test("fieldValue() finds the first value of a field in any case", none, () => {
  const list: Array<[string, string]> = [["Content-Length", "12"], ["content-length", "99"]];
  assert.equal(fieldValue(list, "content-length"), "12");
  assert.equal(fieldValue(list, "content-type"), undefined);
  assert.equal(fieldValue([["content-lengthx", "1"]], "content-length"), undefined);
});

Deno.test(
  "Strict-Transport-Security: Aegis's over TLS, the backend's kept without one, none over plain HTTP",
  none,
  async (t) => {
    const policy = hstsValue({ max_age: 31_536_000_000, include_subdomains: true, preload: true });
    assert.equal(policy, "max-age=31536000; includeSubDomains; preload");
    assert.equal(
      hstsValue({ max_age: 0, include_subdomains: false, preload: false }),
      "max-age=0",
    );
    const backend: HeaderFields = [["Strict-Transport-Security", "max-age=5"], ["x-kept", "1"]];
    const sts = (fields: HeaderFields, rule: ReturnType<typeof stsRule>) =>
      clientHeaders(fields, "r", rule).filter(([n]) =>
        n.toLowerCase() === "strict-transport-security"
      )
        .map(([, v]) => v);
    await t.step("over TLS with a policy: Aegis's replaces the backend's", () => {
      assert.deepEqual(sts(backend, stsRule("https", policy)), [policy]);
      assert.deepEqual(sts([], stsRule("https", policy)), [policy]);
    });
    await t.step("over TLS without a policy: the backend's passes", () => {
      assert.deepEqual(sts(backend, stsRule("https", undefined)), ["max-age=5"]);
    });
    await t.step("over plain HTTP: never one (RFC 6797 §7.2), whatever is configured", () => {
      assert.deepEqual(sts(backend, stsRule("http", policy)), []);
      assert.deepEqual(sts(backend, stsRule("http", undefined)), []);
    });
    await t.step("Aegis's own answers get the policy over TLS only", () => {
      const secure = new Headers();
      applySecurityHeaders(secure, "r", stsRule("https", policy));
      assert.equal(secure.get("strict-transport-security"), policy);
      const plain = new Headers();
      applySecurityHeaders(plain, "r", stsRule("http", policy));
      assert.equal(plain.has("strict-transport-security"), false);
    });
  },
);
