/**
 * A plain-HTTP listener with `redirect_to_https`, over real sockets: curl
 * follows it to the TLS listener; hostile Host values and targets over a
 * raw socket get 400, never a Location of an attacker's choosing; the
 * listener's validation, allow/deny and counters still apply.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { parseTestConfig } from "../_helpers/config.ts";
import { rawExchange } from "../_helpers/raw.ts";
import { createPki, curl } from "../_helpers/tls.ts";

Deno.test("a redirect listener sends every request to https with 308, and curl follows it", async () => {
  await using pki = await createPki();
  const cert = await pki.issue("site", ["site.test"]);
  await using backend = startBackend((req) => new Response(`got ${new URL(req.url).pathname}`));
  const tls = {
    name: "web",
    address: "127.0.0.1:0",
    routes: [{ pool: "p" }],
    tls: { certificates: [{ cert_file: cert.certFile, key_file: cert.keyFile }] },
  };
  // The redirect names port 8443 and curl is pointed from there at the TLS
  // listener's real port: nothing binds a fixed port.
  const config = await parseTestConfig({
    health_check: { interval: "1h" },
    listeners: [tls, { name: "redirect", address: "127.0.0.1:0", redirect_to_https: 8443 }],
    pools: { p: { backends: [{ url: backend.url, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  const port = proxy.aegis.listeners.get("redirect")!.addr.port;
  const tlsPort = proxy.aegis.listeners.get("web")!.addr.port;
  const resolve = [
    "--resolve",
    `site.test:${port}:127.0.0.1`,
    "--connect-to",
    `site.test:8443:127.0.0.1:${tlsPort}`,
  ];

  const head = await curl(`http://site.test:${port}/a/b?x=1`, {
    args: ["-D", "-", "-o", "/dev/null", ...resolve],
  });
  assert.equal(head.status, 308);
  assert.match(
    head.body,
    /^location: https:\/\/site\.test:8443\/a\/b\?x=1\r?$/mi,
  );
  assert.doesNotMatch(head.body, /strict-transport-security/i, "no HSTS over plain HTTP");
  assert.match(head.body, /^x-content-type-options: nosniff/mi);

  const followed = await curl(`http://site.test:${port}/hello`, {
    caFile: pki.caFile,
    args: ["-L", ...resolve],
  });
  assert.deepEqual([followed.status, followed.body], [200, "got /hello"]);

  const counted = proxy.aegis.stats.get("redirect");
  assert.equal(counted.responses["3xx"], 2);
  const logged = proxy.accessLogs().filter((l) => l.listener === "redirect");
  assert.deepEqual(logged.map((l) => [l.status, l.reason, l.pool]), [
    [308, "https_redirect", "-"],
    [308, "https_redirect", "-"],
  ]);
});

Deno.test("a redirect listener answers hostile hosts and targets with 400, and keeps its limits", async (t) => {
  const config = await parseTestConfig({
    listeners: [
      { name: "redirect", address: "127.0.0.1:0", redirect_to_https: 443, max_header_bytes: 1024 },
      { name: "closed", address: "127.0.0.1:0", redirect_to_https: 443, deny: ["127.0.0.0/8"] },
    ],
    // A file needs backends, even when no listener routes to them.
    pools: { unused: { backends: [{ url: "http://127.0.0.1:9", weight: 1 }] } },
    health_check: { interval: "1h" },
  });
  await using proxy = startTestAegis(config);
  const port = proxy.aegis.listeners.get("redirect")!.addr.port;
  const ask = (target: string, host: string | undefined, extra = "") =>
    rawExchange(
      port,
      `GET ${target} HTTP/1.1\r\n${
        host === undefined ? "" : `Host: ${host}\r\n`
      }${extra}Connection: close\r\n\r\n`,
    );
  const location = (text: string) => /^location: (.*)\r$/mi.exec(text)?.[1];

  await t.step("a good host: its https URL, port 443 left out", async () => {
    const r = await ask("/a?b=1", "Example.com:8080");
    assert.equal(r.status, 308);
    assert.equal(location(r.text), "https://example.com/a?b=1");
  });
  await t.step("a scheme-relative path stays on the host", async () => {
    const r = await ask("//evil.com/x", "example.com");
    assert.equal(location(r.text), "https://example.com/evil.com/x");
  });
  for (
    const [what, host] of [
      ["a path in Host", "evil.com/x"],
      ["user-info in Host", "user@evil.com"],
      ["a backslash in Host", "evil.com\\@good.com"],
      ["an underscore", "exa_mple.com"],
      ["a port out of range", "example.com:99999"],
    ]
  ) {
    await t.step(`${what}: 400, no Location`, async () => {
      const r = await ask("/", host);
      assert.equal(r.status, 400, r.text);
      assert.equal(location(r.text), undefined);
    });
  }
  await t.step("no Host: 400", async () => {
    const r = await ask("/", undefined);
    assert.equal(r.status, 400);
    assert.equal(location(r.text), undefined);
  });
  await t.step("an absolute-form target naming another host: 400", async () => {
    const r = await ask("http://evil.com/", "example.com");
    assert.equal(r.status, 400);
    assert.equal(location(r.text), undefined);
  });
  await t.step("the listener's validation still holds", async () => {
    assert.equal((await ask("/a/%2e%2e/etc", "example.com")).status, 400);
    assert.equal((await ask("/", "example.com", `X-Big: ${"x".repeat(2000)}\r\n`)).status, 431);
  });
  await t.step(
    "its deny list still holds: the connection is closed, nothing answered",
    async () => {
      const closed = proxy.aegis.listeners.get("closed")!.addr.port;
      const r = await rawExchange(closed, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
      assert.deepEqual([r.closed, r.status], [true, undefined]);
    },
  );
});
