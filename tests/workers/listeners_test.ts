/**
 * Listeners with `server.workers: 2` beyond the first http one: a tcp
 * listener is bound by every worker too, and a reload lets the requests
 * in flight finish; `workerCount` and the platform check.
 */

import assert from "node:assert/strict";
import { MAX_WORKERS } from "../../src/config/mod.ts";
import { reusePortSpreads, workerCount } from "../../src/workers/mod.ts";
import { startBackend } from "../_helpers/backend.ts";
import { liveConfigFile, parseTestConfig, testConfig } from "../_helpers/config.ts";
import { echo, readExactly, writeFully } from "../_helpers/l4.ts";
import { until } from "../_helpers/load.ts";
import { rawExchange, rawGet, startRawBackend } from "../_helpers/raw.ts";
import { startTestWorkers } from "../_helpers/workers.ts";

const text = new TextEncoder();
const read = new TextDecoder();

Deno.test("a tcp listener is served by every worker, and /status counts both", async () => {
  await using backend = startRawBackend((conn) => echo(conn));
  const config = await parseTestConfig({
    health_check: { interval: "1h" },
    listeners: [{ name: "db", protocol: "tcp", address: "127.0.0.1:0", pool: "pg" }],
    pools: { pg: { backends: [{ address: `127.0.0.1:${backend.port}`, weight: 1 }] } },
  });
  await using aegis = await startTestWorkers(config);
  const n = 16;
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: aegis.port });
    try {
      await writeFully(conn, text.encode(`hello ${i % 10}`));
      assert.equal(read.decode(await readExactly(conn, 7)), `hello ${i % 10}`);
    } finally {
      conn.close();
    }
  }));
  const perWorker = () =>
    aegis.workers.workerSnapshots().map((s) => s?.listeners[0]?.connections.total ?? 0);
  await until(() => perWorker().reduce((a, b) => a + b, 0) === n, "both reports");
  assert.ok(perWorker().every((c) => c > 0), `each worker relayed some: ${perWorker()}`);
  const status = await (await fetch(`${aegis.adminUrl}/status`)).json();
  assert.equal(status.listeners[0].connections.total, n);
});

Deno.test("a reload lets the requests in flight finish, whichever worker holds them", async () => {
  const gate = Promise.withResolvers<void>();
  let held = 0;
  await using backend = startBackend(async () => {
    held++;
    await gate.promise;
    return new Response("done");
  });
  const server = { host: "127.0.0.1", port: 0, workers: 2 };
  const data = (weight: number) => ({ server, backends: [{ url: backend.url, weight }] });
  await using file = await liveConfigFile(data(1));
  await using aegis = await startTestWorkers(file.config, 2, { configPath: file.path });
  try {
    const inFlight = Array.from(
      { length: 8 },
      () => rawExchange(aegis.port, rawGet("/"), 30_000).then((r) => r.status),
    );
    await until(() => held === 8, "every request reached the backend");
    const perWorker = () =>
      aegis.workers.workerSnapshots().map((s) => s?.backends[0]?.metrics.inFlight ?? 0);
    await until(() => perWorker().reduce((a, b) => a + b, 0) === 8, "both reports");
    await file.write(data(3));
    const reloaded = await fetch(`${aegis.adminUrl}/reload`, { method: "POST" });
    assert.equal(reloaded.status, 200, await reloaded.text());
    gate.resolve();
    assert.deepEqual(await Promise.all(inFlight), Array(8).fill(200));
    const status = await (await fetch(`${aegis.adminUrl}/status`)).json();
    assert.equal(status.backends[0].weight, 3);
  } finally {
    gate.resolve();
  }
});

Deno.test("workerCount() reads auto as one per core, within the bounds", async () => {
  const config = await testConfig(["http://127.0.0.1:9001"]);
  const at = (workers: number | "auto") =>
    workerCount({ ...config, server: { ...config.server, workers } });
  assert.equal(at(3), 3);
  assert.equal(at("auto"), Math.min(MAX_WORKERS, navigator.hardwareConcurrency));
  assert.equal(reusePortSpreads("linux"), true);
  assert.equal(reusePortSpreads("darwin"), false);
  assert.equal(reusePortSpreads("windows"), false);
});

Deno.test("a resolved configuration crosses postMessage unchanged: plain data", async () => {
  const config = await testConfig(["http://127.0.0.1:9001"], {
    server: { workers: 2 },
    rate_limit: { exempt: ["10.0.0.0/8"] },
  });
  assert.deepEqual(structuredClone(config), config);
});
