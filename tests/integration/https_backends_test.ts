/**
 * `https` backends, over real sockets: a real `Deno.serve({ cert, key })`
 * backend behind Aegis, verified against `upstream.ca_file`, on both
 * transports (the suite runs once per transport). A certificate from an
 * unknown CA, or for another name, is refused: 502, a clear log line, and a
 * failure on the backend's breaker. `upstream.server_name` reaches a
 * backend by address and verifies its name (h1). Many clients through
 * pooled TLS connections each get their own response.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { parseTestConfig, TEST_TRANSPORT } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { createPki, startTlsBackend } from "../_helpers/tls.ts";

/** One listener, one pool of `url` with `upstream` settings; probes once an hour unless told. */
function oneBackend(url: string, upstream: Record<string, unknown>, extra = {}) {
  return parseTestConfig({
    listeners: [{ name: "web", address: "127.0.0.1:0", routes: [{ pool: "p" }] }],
    rate_limit: { burst: 1000 },
    pools: {
      p: {
        backends: [{ url, weight: 1 }],
        upstream,
        health_check: { interval: "1h" },
        circuit_breaker: { failure_threshold: 1 },
        ...extra,
      },
    },
  });
}

Deno.test("an https backend verified against upstream.ca_file serves requests and health checks", async () => {
  await using pki = await createPki();
  await using backend = startTlsBackend(
    await pki.issue("backend", ["127.0.0.1"]),
    (request) =>
      new Response(`${request.headers.get("x-forwarded-proto")} ${new URL(request.url).pathname}`),
  );
  const config = await oneBackend(backend.url, { ca_file: pki.caFile }, {
    health_check: { interval: "100ms", timeout: "100ms" },
  });
  await using proxy = startTestAegis(config);
  const res = await fetch(`${proxy.url}/hello`);
  assert.deepEqual([res.status, await res.text()], [200, "http /hello"]);
  // The probes go through the same transport, with the same trust.
  await until(() => backend.probes >= 2, "health probes over TLS");
  assert.equal(proxy.aegis.pool.states[0]!.health.consecutiveFailures, 0);
});

Deno.test("a backend whose certificate is not trusted, or not for its name, gets no request: 502 and a breaker failure", async (t) => {
  await using pki = await createPki();
  await using rogue = await createPki();
  const cases = [
    {
      what: "a certificate from an unknown CA",
      files: await rogue.issue("rogue", ["127.0.0.1"]),
      error: /UnknownIssuer|unknown ?issuer|certificate/i,
    },
    {
      what: "a certificate for another name, reached by address",
      files: await pki.issue("named", ["api.internal"]),
      error: /not valid for name|certificate/i,
    },
  ];
  for (const c of cases) {
    await t.step(c.what, async () => {
      await using backend = startTlsBackend(c.files);
      await using proxy = startTestAegis(await oneBackend(backend.url, { ca_file: pki.caFile }));
      const res = await fetch(`${proxy.url}/x`);
      assert.deepEqual([res.status, await res.text()], [502, '{"error":"bad gateway"}']);
      assert.equal(backend.received, 0);
      const failed = proxy.logs.find((l) => l.msg === "backend request failed");
      assert.match(String(failed?.error), c.error);
      assert.ok(proxy.logs.some((l) => l.msg === "circuit breaker opened"), "counted as a failure");
    });
  }
});

Deno.test("upstream.server_name: the name sent and verified, whatever address the URL names (h1)", async (t) => {
  await using pki = await createPki();
  await using backend = startTlsBackend(await pki.issue("named", ["api.internal"]));
  const named = (server_name: string) =>
    oneBackend(backend.url, { transport: "h1", ca_file: pki.caFile, server_name });
  await t.step("the certificate's name: served", async () => {
    await using proxy = startTestAegis(await named("api.internal"));
    const res = await fetch(`${proxy.url}/`);
    assert.deepEqual([res.status, await res.text()], [200, "ok"]);
  });
  await t.step("another name: refused", async () => {
    await using proxy = startTestAegis(await named("www.internal"));
    const res = await fetch(`${proxy.url}/`);
    await res.body?.cancel();
    assert.equal(res.status, 502);
    const failed = proxy.logs.find((l) => l.msg === "backend request failed");
    assert.match(String(failed?.error), /server name www\.internal.*not valid for name/);
  });
});

Deno.test("many clients through pooled TLS backend connections each get only their own response", async () => {
  await using pki = await createPki();
  await using backend = startTlsBackend(await pki.issue("backend", ["127.0.0.1"]), async (req) => {
    // A little jitter, so that responses finish out of order on the pooled connections.
    await new Promise((r) => setTimeout(r, Math.random() * 5));
    return new Response(req.headers.get("x-request-id"));
  });
  const config = await oneBackend(backend.url, { ca_file: pki.caFile, max_connections: 8 });
  await using proxy = startTestAegis(config);
  const ids = Array.from({ length: 200 }, (_, i) => `client-${i}`);
  const answers = await Promise.all(ids.map(async (id) => {
    const res = await fetch(`${proxy.url}/`, { headers: { "x-request-id": id } });
    return [res.status, await res.text(), res.headers.get("x-request-id")];
  }));
  assert.deepEqual(answers, ids.map((id) => [200, id, id]));
  // Connections were reused: far fewer TLS connections than requests.
  assert.ok(backend.peerPorts.size < ids.length, `${backend.peerPorts.size} connections`);
  if (TEST_TRANSPORT !== "fetch") assert.ok(backend.peerPorts.size <= 8);
});
