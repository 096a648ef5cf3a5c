/**
 * The metrics listener (`admin.metrics_address`): a real Aegis serving
 * `GET /metrics` on a listener of its own, beside the admin API, and
 * nothing else there. `tests/admin/routes_test.ts` covers the handler with
 * `new Request()`; the bind failure through the CLI is in `cli_test.ts`.
 */

import assert from "node:assert/strict";
import { stringify } from "yaml";
import { PROMETHEUS_CONTENT_TYPE } from "../../src/admin/mod.ts";
import { loadConfigFile } from "../../src/config/mod.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { withTestTransport } from "../_helpers/config.ts";

const TOKEN = "s3cret-admin-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };

/** YAML data for a loopback Aegis with the admin API and, unless `metrics` is "", the metrics listener. */
function configData(backend: string, metrics = "127.0.0.1:0") {
  return {
    server: { host: "127.0.0.1", port: 0 },
    backends: [{ url: backend, weight: 1 }],
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0", token: TOKEN, metrics_address: metrics },
    rate_limit: { exempt: ["127.0.0.0/8"] },
  };
}

/** A configuration file a test may rewrite, loaded by the real loader. */
async function configFile(data: Record<string, unknown>) {
  const dir = await Deno.makeTempDir({ prefix: "aegis-metrics-" });
  const path = `${dir}/aegis.yml`;
  const write = (d: Record<string, unknown>) =>
    Deno.writeTextFile(path, stringify(withTestTransport(d)));
  await write(data);
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  return {
    path,
    config: loaded.config,
    write,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The metric family names a Prometheus text declares, in order. */
function families(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
}

Deno.test("the metrics listener serves /metrics as the admin API does, and nothing else", async (t) => {
  await using backend = startBackend(() => new Response("ok"));
  await using file = await configFile(configData(backend.url));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  assert.ok(proxy.metricsUrl, "aegis.metricsAddr is set");
  assert.notEqual(proxy.aegis.metricsAddr!.port, proxy.aegis.adminAddr!.port);
  assert.equal(await (await fetch(`${proxy.url}/`)).text(), "ok");

  await t.step("GET /metrics: 200, Prometheus text with the admin API's families", async () => {
    const res = await fetch(`${proxy.metricsUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
    const text = await res.text();
    assert.match(text, /^proxy_requests_total\{listener="default"\} 1$/m);
    const admin = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    assert.deepEqual(families(text), families(admin));
    assert.ok(families(text).length > 30, "every family, not a subset");
  });
  await t.step("HEAD /metrics: 200 without a body", async () => {
    const res = await fetch(`${proxy.metricsUrl}/metrics`, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");
  });
  await t.step("the admin endpoints are not there, even with the token: 404", async () => {
    for (
      const [method, path] of [
        ["GET", "/status"],
        ["GET", "/health"],
        ["POST", "/reload"],
        ["POST", "/drain"],
        ["GET", "/"],
      ]
    ) {
      const res = await fetch(`${proxy.metricsUrl}${path}`, { method, headers: auth });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(await res.json(), { error: "not found" });
    }
    assert.equal(proxy.aegis.drainStatus().draining, false, "nothing was drained");
    assert.ok(!proxy.logs.some((l) => l.msg === "configuration reloaded"), "nothing reloaded");
  });
  await t.step("POST /metrics: 405 with Allow", async () => {
    const res = await fetch(`${proxy.metricsUrl}/metrics`, { method: "POST", body: "x" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
    assert.deepEqual(await res.json(), { error: "method not allowed" });
  });
  await t.step("/status and the startup log say where it listens", async () => {
    const status = await (await fetch(`${proxy.adminUrl}/status`)).json();
    assert.deepEqual(status.listen, {
      public: proxy.url,
      admin: proxy.adminUrl,
      metrics: proxy.metricsUrl,
    });
    assert.equal(status.config.admin.metrics_address, "127.0.0.1:0");
    const listening = proxy.logs.find((l) => l.msg === "Aegis listening")!;
    assert.equal(listening.metrics, proxy.metricsUrl);
  });
});

Deno.test("without admin.metrics_address there is no metrics listener", async () => {
  await using backend = startBackend(() => new Response("ok"));
  await using file = await configFile(configData(backend.url, ""));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  assert.equal(proxy.aegis.metricsAddr, undefined);
  const status = await (await fetch(`${proxy.adminUrl}/status`)).json();
  assert.equal(status.listen.metrics, "");
  const listening = proxy.logs.find((l) => l.msg === "Aegis listening")!;
  assert.ok(!("metrics" in listening), JSON.stringify(listening));
});

Deno.test("a reload that would close or move the metrics listener is refused, and it keeps serving", async (t) => {
  await using backend = startBackend(() => new Response("ok"));
  await using file = await configFile(configData(backend.url));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  for (const [label, address] of [["close", ""], ["move", "127.0.0.2:0"]] as const) {
    await t.step(label, async () => {
      await file.write(configData(backend.url, address));
      const res = await fetch(`${proxy.adminUrl}/reload`, { method: "POST", headers: auth });
      assert.equal(res.status, 400);
      assert.deepEqual((await res.json()).problems, [
        "admin.metrics_address: the metrics listener cannot open, close or move while running; restart Aegis",
      ]);
      const metrics = await fetch(`${proxy.metricsUrl}/metrics`);
      assert.equal(metrics.status, 200, "still serving where it was");
      await metrics.body?.cancel();
    });
  }
});

Deno.test("shutdown closes the metrics listener", async () => {
  await using backend = startBackend(() => new Response("ok"));
  await using file = await configFile(configData(backend.url));
  const proxy = startTestAegis(file.config);
  const { port } = proxy.aegis.metricsAddr!;
  const res = await fetch(`${proxy.metricsUrl}/metrics`);
  await res.body?.cancel();
  await proxy.aegis.shutdown();
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
  );
});
