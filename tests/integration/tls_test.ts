/**
 * TLS termination on an http listener, over real sockets with real
 * clients: curl (HTTP/1.1 and HTTP/2 over ALPN), openssl s_client (ALPN,
 * SNI choice), h2load (many streams on few connections), certificates renewed on disk and by a reload while a
 * connection stays open, and clients speaking the wrong protocol.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { liveConfigFile, parseTestConfig } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { createPki, curl, handshake, type IssuedFiles, run } from "../_helpers/tls.ts";
import { EventLog } from "../../src/events/mod.ts";
import { runCli } from "../_helpers/cli.ts";
import { stringify } from "yaml";

const quiet = { health_check: { interval: "1h" } };

function echoProto() {
  return startBackend((request) =>
    new Response(`proto=${request.headers.get("x-forwarded-proto")}`)
  );
}

function tlsListener(name: string, certs: readonly IssuedFiles[], extra = {}) {
  return {
    name,
    address: "127.0.0.1:0",
    routes: [{ pool: "p" }],
    tls: { certificates: certs.map((c) => ({ cert_file: c.certFile, key_file: c.keyFile })) },
    ...extra,
  };
}

Deno.test("a TLS listener serves HTTP/1.1 and HTTP/2, and tells the backend the request came over https", async () => {
  await using pki = await createPki();
  const site = await pki.issue("site", ["site.test"]);
  await using backend = echoProto();
  const config = await parseTestConfig({
    ...quiet,
    listeners: [tlsListener("web", [site]), {
      name: "plain",
      address: "127.0.0.1:0",
      routes: [{ pool: "p" }],
    }],
    pools: { p: { backends: [{ url: backend.url, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  const web = proxy.aegis.listeners.get("web")!;
  assert.match(web.url, /^https:\/\//);
  const port = web.addr.port;
  const at = `https://site.test:${port}/`;
  const resolve = ["--resolve", `site.test:${port}:127.0.0.1`];
  const h2 = await curl(at, { caFile: pki.caFile, args: ["--http2", ...resolve] });
  assert.deepEqual([h2.status, h2.version, h2.body], [200, "2", "proto=https"]);
  const h1 = await curl(at, { caFile: pki.caFile, args: ["--http1.1", ...resolve] });
  assert.deepEqual([h1.status, h1.version, h1.body], [200, "1.1", "proto=https"]);
  const alpn = await handshake(port, { serverName: "site.test", alpn: "h2", caFile: pki.caFile });
  assert.equal(alpn.alpn, "h2");
  assert.ok(alpn.verified);
  assert.equal((await handshake(port, { alpn: "http/1.1", caFile: pki.caFile })).alpn, "http/1.1");

  // The wrong protocol on either port: the client fails, the listener goes on.
  await assert.rejects(curl(`http://127.0.0.1:${port}/`));
  const plainPort = proxy.aegis.listeners.get("plain")!.addr.port;
  await assert.rejects(curl(`https://127.0.0.1:${plainPort}/`, { caFile: pki.caFile }));
  const plain = await curl(`http://127.0.0.1:${plainPort}/`);
  assert.deepEqual([plain.status, plain.body], [200, "proto=http"]);
  // HTTP/2 without TLS, with prior knowledge (h2c), on the plain listener.
  const h2c = await curl(`http://127.0.0.1:${plainPort}/`, { args: ["--http2-prior-knowledge"] });
  assert.deepEqual([h2c.status, h2c.version, h2c.body], [200, "2", "proto=http"]);
  const again = await curl(at, { caFile: pki.caFile, args: resolve });
  assert.equal(again.status, 200);

  const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
  const expiry =
    /^proxy_tls_certificate_expiry_seconds\{listener="web",subject="CN=site\.test"\} (\d+)$/m
      .exec(metrics);
  const days = Number(expiry?.[1]) / 86_400;
  assert.ok(days > 29 && days <= 30, `expires in ${days} days`);
});

Deno.test("`aegis check` shows each certificate's subject, names and expiry", async () => {
  await using pki = await createPki();
  const site = await pki.issue("site", ["site.test", "*.site.test"]);
  const path = `${pki.dir}/aegis.yml`;
  await Deno.writeTextFile(
    path,
    stringify({
      listeners: [tlsListener("web", [site])],
      pools: { p: { backends: [{ url: "http://127.0.0.1:9", weight: 1 }] } },
      development: { allow_loopback_backends: true },
    }),
  );
  const r = await runCli(["check", "-c", path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /listener web certificate .*site\.pem: CN=site\.test; names site\.test, \*\.site\.test; expires \d{4}-\d\d-\d\dT.*Z \(in 29 days\)/,
  );
});

Deno.test("SNI picks the certificate: exact name, then wildcard, the first one otherwise", async () => {
  await using pki = await createPki();
  const first = await pki.issue("first", ["first.test"]);
  const api = await pki.issue("api", ["api.example.test"]);
  const wild = await pki.issue("wild", ["*.example.test"]);
  await using backend = echoProto();
  const config = await parseTestConfig({
    ...quiet,
    listeners: [tlsListener("web", [first, wild, api])],
    pools: { p: { backends: [{ url: backend.url, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  const port = proxy.aegis.listeners.get("web")!.addr.port;
  const subject = async (serverName?: string) =>
    (await handshake(port, { serverName, caFile: pki.caFile })).subject;
  assert.match(
    await subject("api.example.test"),
    /CN ?= ?api\.example\.test/,
    "exact beats wildcard",
  );
  assert.match(await subject("www.example.test"), /CN ?= ?\*\.example\.test/);
  assert.match(await subject("first.test"), /CN ?= ?first\.test/);
  assert.match(await subject("unknown.test"), /CN ?= ?first\.test/, "no match: the first one");
  assert.match(await subject(), /CN ?= ?first\.test/, "no SNI: the first one");
  const res = await curl(`https://www.example.test:${port}/`, {
    caFile: pki.caFile,
    args: ["--http2", "--resolve", `www.example.test:${port}:127.0.0.1`],
  });
  assert.equal(res.status, 200, "the wildcard certificate verifies for the client");
});

Deno.test("renewed certificate files are served to new connections; a broken renewal is refused and the old one keeps serving", async () => {
  await using pki = await createPki();
  // The IP address too: the raw connection below reaches it by address.
  const old = await pki.issue("site", ["site.test", "127.0.0.1"]);
  await using backend = echoProto();
  const config = await parseTestConfig({
    ...quiet,
    listeners: [tlsListener("web", [old])],
    pools: { p: { backends: [{ url: backend.url, weight: 1 }] } },
  });
  const events = new EventLog();
  await using proxy = startTestAegis(config, { events });
  const port = proxy.aegis.listeners.get("web")!.addr.port;
  const serial = async () => {
    const out = await handshake(port, { serverName: "site.test", caFile: pki.caFile });
    return out.subject;
  };
  // An HTTP/1.1 keep-alive connection opened before the renewal.
  const conn = await Deno.connectTls(
    {
      hostname: "127.0.0.1",
      port,
      caCerts: [await Deno.readTextFile(pki.caFile)],
      alpnProtocols: ["http/1.1"],
    } as Deno.ConnectTlsOptions,
  );
  const ask = async () => {
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: site.test\r\n\r\n"));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  };
  assert.match(await ask(), /^HTTP\/1\.1 200/);
  const before = proxy.aegis.listeners.get("web")!.server.certificates![0]!;

  // Renewal as certbot does it: new files written in place of the old.
  const renewed = await pki.issue("renewed", ["site.test", "www.site.test", "127.0.0.1"]);
  await Deno.copyFile(renewed.certFile, old.certFile);
  await Deno.copyFile(renewed.keyFile, old.keyFile);
  await until(
    () => proxy.aegis.listeners.get("web")!.server.certificates![0]!.cert !== before.cert,
    "the renewed certificate served",
  );
  assert.deepEqual(proxy.aegis.listeners.get("web")!.server.certificates![0]!.names, [
    "site.test",
    "www.site.test",
  ]);
  assert.match(await serial(), /site\.test/);
  assert.match(await ask(), /^HTTP\/1\.1 200/, "the open connection keeps its session");

  // A broken renewal: a key that is not the certificate's.
  const other = await pki.issue("other", ["other.test"]);
  const served = proxy.aegis.listeners.get("web")!.server.certificates![0]!.cert;
  await Deno.copyFile(other.keyFile, old.keyFile);
  await until(
    () =>
      proxy.logs.some((l) => l.msg === "TLS certificate refused, the previous one keeps serving"),
    "the broken renewal refused",
  );
  assert.equal(proxy.aegis.listeners.get("web")!.server.certificates![0]!.cert, served);
  const event = events.recent(10).find((e) => e.kind === "tls");
  assert.match(event?.message ?? "", /refused.*not the private key/);
  const res = await curl(`https://site.test:${port}/`, {
    caFile: pki.caFile,
    args: ["--resolve", `site.test:${port}:127.0.0.1`],
  });
  assert.equal(res.status, 200, "still served with the previous certificate");
  assert.match(await ask(), /^HTTP\/1\.1 200/);
  conn.close();
});

Deno.test("HTTP/2 streams on one connection are each rate limited as requests", async () => {
  await using pki = await createPki();
  const site = await pki.issue("site", ["site.test"]);
  await using backend = echoProto();
  const config = await parseTestConfig({
    ...quiet,
    listeners: [tlsListener("web", [site], {
      rate_limit: { requests_per_second: 0.001, burst: 5 },
      adaptive: { min_rate: 0.001 },
    })],
    pools: { p: { backends: [{ url: backend.url, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  const port = proxy.aegis.listeners.get("web")!.addr.port;
  const urls = Array.from({ length: 20 }, (_, i) => `https://site.test:${port}/${i}`);
  // One connection, twenty streams at once.
  await run("curl", [
    "-sS",
    "--http2",
    "--parallel",
    "--parallel-immediate",
    "--parallel-max",
    "20",
    "--cacert",
    pki.caFile,
    "--resolve",
    `site.test:${port}:127.0.0.1`,
    "-o",
    "/dev/null",
    ...urls.flatMap((u) => [u, "-o", "/dev/null"]),
  ]);
  await until(() => proxy.accessLogs().length >= 20, "twenty requests logged");
  const logged = proxy.accessLogs().map((l) => l.status);
  assert.equal(logged.filter((s) => s === 200).length, 5);
  assert.equal(logged.filter((s) => s === 429).length, 15);
});

Deno.test("h2load: many concurrent HTTP/2 streams over TLS each get their answer and count as a request", async () => {
  await using pki = await createPki();
  const site = await pki.issue("site", ["site.test"]);
  await using backend = echoProto();
  const config = await parseTestConfig({
    ...quiet,
    listeners: [tlsListener("web", [site], { rate_limit: { exempt: ["127.0.0.0/8"] } })],
    pools: { p: { backends: [{ url: backend.url, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  const port = proxy.aegis.listeners.get("web")!.addr.port;
  // Two connections, up to 32 streams open on each at once, 400 requests in all.
  const report = await run("h2load", [
    "-n",
    "400",
    "-c",
    "2",
    "-m",
    "32",
    `https://127.0.0.1:${port}/`,
  ]);
  assert.match(report, /Application protocol: h2/, report);
  assert.match(
    report,
    /requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed/,
    report,
  );
  assert.match(report, /status codes: 400 2xx, 0 3xx, 0 4xx, 0 5xx/, report);
  await until(() => proxy.accessLogs().length >= 400, "every stream logged");
  const traffic = proxy.aegis.refreshSnapshot().listeners.find((l) => l.name === "web")!.traffic;
  assert.equal(traffic.requests, 400, "each stream is a request");
  assert.equal(traffic.responses["2xx"], 400);
});

Deno.test("a reload serves the certificates it names to new connections, and refuses a broken one whole", async () => {
  await using pki = await createPki();
  const first = await pki.issue("first", ["site.test"]);
  const second = await pki.issue("second", ["site.test", "www.site.test"]);
  const other = await pki.issue("other", ["other.test"]);
  await using backend = echoProto();
  const topology = (cert: IssuedFiles) => ({
    ...quiet,
    listeners: [tlsListener("web", [cert])],
    pools: { p: { backends: [{ url: backend.url, weight: 1 }] } },
  });
  await using file = await liveConfigFile(topology(first));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const web = () => proxy.aegis.listeners.get("web")!;
  const port = web().addr.port;
  const names = () => web().server.certificates!.map((c) => c.names.join(","));
  assert.deepEqual(names(), ["site.test"]);

  await file.write(topology(second));
  const applied = await proxy.aegis.reload();
  assert.ok(applied.ok, JSON.stringify(applied));
  assert.deepEqual(names(), ["site.test,www.site.test"]);
  assert.equal(web().addr.port, port, "the same port");
  const res = await curl(`https://www.site.test:${port}/`, {
    caFile: pki.caFile,
    args: ["--resolve", `www.site.test:${port}:127.0.0.1`],
  });
  assert.equal(res.status, 200, "a name only the new certificate has");

  await file.write(topology({ certFile: second.certFile, keyFile: other.keyFile }));
  const refused = await proxy.aegis.reload();
  assert.equal(refused.ok, false);
  assert.match(JSON.stringify(refused), /key_file: .* is not the private key/);
  assert.deepEqual(names(), ["site.test,www.site.test"], "the previous certificate keeps serving");
});
