/**
 * `security.hsts` over real sockets with curl: the policy on every response
 * to a request that came over TLS (Aegis's own 404, 429 and 502 included,
 * and over a backend's own), and never on one that came over plain HTTP.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { parseTestConfig } from "../_helpers/config.ts";
import { createPki, curl } from "../_helpers/tls.ts";

const POLICY = "max-age=31536000; includeSubDomains";

/** The status and `Strict-Transport-Security` values of one curl request. */
async function stsOf(url: string, caFile: string): Promise<[number, string[]]> {
  const res = await curl(url, { caFile, args: ["-o", "/dev/null", "-D", "-"] });
  const values = [...res.body.matchAll(/^strict-transport-security: *(.*?)\r?$/gim)].map((m) =>
    m[1]!
  );
  return [res.status, values];
}

Deno.test("HSTS is on every response over TLS, Aegis's own errors included, and never over plain HTTP", async () => {
  await using pki = await createPki();
  const cert = await pki.issue("local", ["127.0.0.1"]);
  // The backend sends its own policy: Aegis's replaces it over TLS, and none goes over plain HTTP.
  await using backend = startBackend(() =>
    new Response("ok", { headers: { "strict-transport-security": "max-age=5" } })
  );
  const gone = startBackend();
  const goneUrl = gone.url;
  await gone.close();
  const routes = [
    { match: { path_prefix: "/down" }, pool: "down" },
    { match: { path_prefix: "/app" }, pool: "p" },
  ];
  const config = await parseTestConfig({
    health_check: { interval: "1h" },
    security: { hsts: { max_age: "8760h", include_subdomains: true } },
    listeners: [
      {
        name: "web",
        address: "127.0.0.1:0",
        routes,
        tls: { certificates: [{ cert_file: cert.certFile, key_file: cert.keyFile }] },
        // Three requests (validation refusals take none), then 429 for a long while.
        rate_limit: { requests_per_second: 0.01, burst: 3 },
        adaptive: { min_rate: 0.01 },
      },
      { name: "plain", address: "127.0.0.1:0", routes },
    ],
    pools: {
      p: { backends: [{ url: backend.url, weight: 1 }] },
      down: { backends: [{ url: goneUrl, weight: 1 }], retries: { attempts: 0 } },
    },
  });
  await using proxy = startTestAegis(config);
  const web = `https://127.0.0.1:${proxy.aegis.listeners.get("web")!.addr.port}`;
  const plain = `http://127.0.0.1:${proxy.aegis.listeners.get("plain")!.addr.port}`;

  assert.deepEqual(await stsOf(`${web}/app`, pki.caFile), [200, [POLICY]]);
  assert.deepEqual(await stsOf(`${web}/nowhere`, pki.caFile), [404, [POLICY]]);
  assert.deepEqual(await stsOf(`${web}/down`, pki.caFile), [502, [POLICY]]);
  assert.deepEqual(await stsOf(`${web}/app/%2e%2e/x`, pki.caFile), [400, [POLICY]]);
  assert.deepEqual(await stsOf(`${web}/app`, pki.caFile), [429, [POLICY]]);

  assert.deepEqual(await stsOf(`${plain}/app`, pki.caFile), [200, []]);
  assert.deepEqual(await stsOf(`${plain}/nowhere`, pki.caFile), [404, []]);
  assert.deepEqual(await stsOf(`${plain}/down`, pki.caFile), [502, []]);
});
