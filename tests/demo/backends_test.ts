import assert from "node:assert/strict";
import { demoHandler, startDemoBackend } from "../../src/demo/backends.ts";
import { parseConfig } from "../../src/config/mod.ts";

Deno.test("a demo backend answers with its own name and serves /health", async () => {
  await using backend = startDemoBackend("backend-7", 0);
  const res = await fetch(`${backend.url}/anything?x=1`);
  assert.deepEqual(await res.json(), { backend: "backend-7", method: "GET", path: "/anything" });
  assert.equal(res.headers.get("x-backend"), "backend-7");
  const health = await fetch(`${backend.url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok", backend: "backend-7" });
});

Deno.test("demo backends answer /status/<code> with that status and /delay/<ms> after waiting", async () => {
  const res = await demoHandler("b", new Request("http://demo/status/503"));
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { backend: "b" });
  const delayed = await demoHandler("b", new Request("http://demo/delay/5"));
  assert.deepEqual(await delayed.json(), { backend: "b", delayed_ms: 5 });
  const bogus = await demoHandler("b", new Request("http://demo/status/999"));
  assert.equal(bogus.status, 200, "a status outside 200–599 is just a path");
  await bogus.body?.cancel();
});

Deno.test("the shipped aegis.yml is valid and points at the three demo backends", async () => {
  const text = await Deno.readTextFile(new URL("../../aegis.yml", import.meta.url));
  const result = await parseConfig(text, { file: "aegis.yml" });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.diagnostics));
  assert.deepEqual(result.config.pools.default!.backends.map((b) => b.url), [
    "http://localhost:8081",
    "http://localhost:8082",
    "http://localhost:8083",
  ]);
  assert.equal(result.config.listeners[0]!.address, "0.0.0.0:8080");
});
