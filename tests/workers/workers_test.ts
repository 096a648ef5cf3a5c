/**
 * `server.workers: 2` end to end: two real worker isolates on one port,
 * the control isolate's admin API, real backends. Connections are spread
 * by the kernel, so every test opens several (`Connection: close`), and
 * reads per-worker figures from the workers' own reports where it needs
 * to know that both took some.
 */

import assert from "node:assert/strict";
import { startBackend } from "../_helpers/backend.ts";
import { liveConfigFile, testConfig } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { rawExchange, rawGet } from "../_helpers/raw.ts";
import { startTestWorkers } from "../_helpers/workers.ts";

/** `n` GETs of `path`, each on its own connection, `parallel` at a time; their statuses. */
async function getEach(port: number, n: number, path = "/", parallel = 4): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = Array.from(
      { length: Math.min(parallel, n - i) },
      () => rawExchange(port, rawGet(path)).then((r) => r.status ?? 0),
    );
    statuses.push(...await Promise.all(batch));
  }
  return statuses;
}

/**
 * True when a new connection is refused, or closed unanswered: no worker
 * accepts any more. A reset is no answer yet: the connection was queued on
 * a socket that closed meanwhile, and the other worker's may still accept.
 */
async function noOneAnswers(port: number): Promise<boolean> {
  try {
    return (await rawExchange(port, rawGet("/"), 500)).status === undefined;
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) return true;
    if (e instanceof Deno.errors.ConnectionReset) return false;
    throw e;
  }
}

/** The requests each worker counted in its latest report. */
function perWorker(
  workers: { workerSnapshots(): ReadonlyArray<{ global: { requests: number } } | undefined> },
) {
  return workers.workerSnapshots().map((s) => s?.global.requests ?? 0);
}

Deno.test("2 workers serve one port, and /metrics and /status count every request of both", async () => {
  await using backend = startBackend();
  await using aegis = await startTestWorkers(await testConfig([backend.url]), 2, {
    descriptorLimit: 4096,
  });
  const n = 40;
  const statuses = await getEach(aegis.port, n);
  assert.deepEqual(statuses, Array(n).fill(200));
  await until(() => perWorker(aegis.workers).reduce((a, b) => a + b, 0) === n, "both reports");
  const split = perWorker(aegis.workers);
  assert.ok(split.every((count) => count > 0), `each worker served some: ${split}`);
  const status = await (await fetch(`${aegis.adminUrl}/status`)).json();
  assert.equal(status.global.requests, n);
  assert.equal(status.global.responses["2xx"], n);
  assert.equal(status.global.total_connections, n);
  assert.equal(status.backends[0].requests, n);
  // max_connections: auto is each worker's share of the descriptors: together within the limit.
  assert.ok(status.connections.max_connections < 4096, String(status.connections.max_connections));
  const metrics = await (await fetch(`${aegis.adminUrl}/metrics`)).text();
  assert.match(metrics, new RegExp(`^proxy_requests_total\\{listener="default"\\} ${n}$`, "m"));
  // The duration histogram is the two workers' merged: its count is every request.
  const count = metrics.split("\n").filter((l) =>
    l.startsWith("proxy_request_duration_seconds_count{")
  ).reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
  assert.equal(count, n);
});

Deno.test("one client's requests spread over 2 workers are limited to rate + burst in total, not twice", async () => {
  await using backend = startBackend();
  const config = await testConfig([backend.url], {
    rate_limit: { requests_per_second: 1, burst: 6 },
    adaptive: { min_rate: 1, max_rate: 1 },
  });
  await using aegis = await startTestWorkers(config);
  const started = performance.now();
  const statuses = await getEach(aegis.port, 30);
  const seconds = (performance.now() - started) / 1000;
  const allowed = statuses.filter((s) => s === 200).length;
  assert.equal(allowed + statuses.filter((s) => s === 429).length, 30);
  // The burst, and at most what one second's rate refilled while the requests ran.
  assert.ok(
    allowed >= 6 && allowed <= 6 + Math.ceil(seconds),
    `${allowed} allowed in ${seconds} s`,
  );
  await until(() => perWorker(aegis.workers).reduce((a, b) => a + b, 0) === 30, "both reports");
  const split = perWorker(aegis.workers);
  assert.ok(split.every((count) => count > 0), `each worker took some: ${split}`);
  const status = await (await fetch(`${aegis.adminUrl}/status`)).json();
  assert.equal(status.global.rate_limited, 30 - allowed);
  assert.equal(status.limiter.tracked_clients, 1);
});

/**
 * A backend that holds every request until `release()`, and the requests
 * sent through Aegis on separate connections until each worker has at
 * least one in flight (the kernel picks the worker; more connections make
 * both likely, and the loop is bounded).
 */
async function holdOnEveryWorker(
  aegis: Awaited<ReturnType<typeof startTestWorkers>>,
  held: { count: number },
) {
  const inFlight: Array<Promise<number>> = [];
  const perWorkerInFlight = () =>
    aegis.workers.workerSnapshots().map((s) => s?.backends[0]?.metrics.inFlight ?? 0);
  for (let i = 0; i < 12; i++) {
    inFlight.push(rawExchange(aegis.port, rawGet("/slow"), 30_000).then((r) => r.status ?? 0));
    await until(() => held.count === inFlight.length, "the request reached the backend");
    if (i >= 1) {
      // Both workers' reports show a request in flight once each took one.
      const shown = await waitForReports(perWorkerInFlight, inFlight.length);
      if (shown.every((n) => n > 0)) return { inFlight, split: shown };
    }
  }
  throw new Error("the kernel put 12 connections on one worker");
}

/** The per-worker figures once the reports add up to `total`. */
async function waitForReports(read: () => number[], total: number): Promise<number[]> {
  await until(() => read().reduce((a, b) => a + b, 0) === total, "the workers' reports");
  return read();
}

function holdingBackend() {
  const held = { count: 0 };
  const gate = Promise.withResolvers<void>();
  const backend = startBackend(async (request) => {
    if (new URL(request.url).pathname !== "/slow") return new Response("ok");
    held.count++;
    await gate.promise;
    return new Response("slow ok");
  });
  return { backend, held, release: () => gate.resolve() };
}

Deno.test("shutdown reaches every worker and waits for the requests in flight on each", async () => {
  const { backend, held, release } = holdingBackend();
  await using _backend = backend;
  const aegis = await startTestWorkers(await testConfig([backend.url]));
  try {
    const { inFlight } = await holdOnEveryWorker(aegis, held);
    let stopped = false;
    const stopping = aegis.workers.shutdown().then(() => stopped = true);
    // Both workers stop accepting: a new connection finds no one listening.
    await until(
      () => noOneAnswers(aegis.port),
      "no worker accepts",
    );
    assert.equal(stopped, false, "shutdown waits for the requests in flight");
    release();
    assert.deepEqual(await Promise.all(inFlight), inFlight.map(() => 200));
    await stopping;
    assert.ok(aegis.logs.some((l) => l.msg === "Aegis shutdown complete"));
  } finally {
    release();
    await aegis.workers.shutdown();
  }
});

Deno.test("a worker that dies is logged and replaced: its requests fail, the other worker's complete", async () => {
  const { backend, held, release } = holdingBackend();
  await using _backend = backend;
  await using aegis = await startTestWorkers(await testConfig([backend.url]));
  try {
    const { inFlight, split } = await holdOnEveryWorker(aegis, held);
    aegis.workers.killWorker(1);
    await until(() => aegis.workers.replaced === 1, "worker 1 replaced");
    release();
    const statuses = await Promise.all(inFlight);
    // Worker 0's requests complete; worker 1's connections were closed under them.
    assert.equal(statuses.filter((s) => s === 200).length, split[0]);
    assert.equal(statuses.filter((s) => s !== 200).length, split[1]);
    await until(
      () => aegis.logs.some((l) => l.msg === "worker replaced"),
      "the replacement is ready",
    );
    assert.ok(aegis.logs.some((l) => String(l.msg).startsWith("worker died") && l.worker === 1));
    assert.ok(aegis.workers.snapshot().events.some((e) => e.kind === "worker"));
    // New connections are served, by whichever worker the kernel picks.
    assert.deepEqual(await getEach(aegis.port, 10), Array(10).fill(200));
  } finally {
    release();
  }
});

Deno.test("health checks run once, in the control isolate, and every worker follows them", async () => {
  let healthy = true;
  let probes = 0;
  await using backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (new URL(request.url).pathname !== "/health") return new Response("ok");
    probes++;
    return new Response(null, { status: healthy ? 200 : 503 });
  });
  const url = `http://127.0.0.1:${backend.addr.port}`;
  await using once = await startTestWorkers(
    await testConfig([url], { health_check: { interval: "1h" } }),
  );
  assert.deepEqual(await getEach(once.port, 8), Array(8).fill(200));
  // The first probe goes out at once; a worker probing too would have sent more.
  assert.equal(probes, 1);
  await once.workers.shutdown();

  await using aegis = await startTestWorkers(
    await testConfig([url], {
      // The polls below send many requests: the limiter is not under test here.
      rate_limit: { exempt: ["127.0.0.0/8"] },
      health_check: {
        interval: "500ms",
        timeout: "500ms",
        unhealthy_threshold: 1,
        healthy_threshold: 1,
      },
    }),
  );
  const healthOf = async () =>
    (await (await fetch(`${aegis.adminUrl}/status`)).json()).backends[0].health;
  healthy = false;
  await until(async () => await healthOf() === "unhealthy", "/status shows the backend unhealthy");
  // Every worker has it unhealthy within a report period: no backend left, 503.
  await until(
    async () => (await getEach(aegis.port, 8)).every((s) => s === 503),
    "503 on every worker",
  );
  healthy = true;
  await until(
    async () => (await getEach(aegis.port, 8)).every((s) => s === 200),
    "200 on every worker",
  );
});

Deno.test("reload and drain reach every worker", async () => {
  await using a = startBackend(() => new Response("a"));
  await using b = startBackend(() => new Response("b"));
  const server = { host: "127.0.0.1", port: 0, workers: 2 };
  const health_check = { interval: "200ms", timeout: "200ms" };
  const rate_limit = { exempt: ["127.0.0.0/8"] };
  await using file = await liveConfigFile({
    server,
    health_check,
    rate_limit,
    backends: [{ url: a.url, weight: 1 }],
  });
  await using aegis = await startTestWorkers(file.config, 2, { configPath: file.path });
  await getEach(aegis.port, 8);
  assert.ok(a.received.length === 8 && b.received.length === 0);
  await file.write({ server, health_check, rate_limit, backends: [{ url: b.url, weight: 1 }] });
  const reloaded = await fetch(`${aegis.adminUrl}/reload`, { method: "POST" });
  assert.equal(reloaded.status, 200, await reloaded.text());
  // Backend b starts unhealthy until the control's first check says otherwise.
  await until(async () => (await getEach(aegis.port, 4)).every((s) => s === 200), "b serves");
  const before = b.received.length;
  assert.deepEqual(await getEach(aegis.port, 16), Array(16).fill(200));
  assert.equal(a.received.length, 8, "no worker still sends to a");
  assert.equal(b.received.length, before + 16);

  // A reload that asks for another number of workers is refused: it needs a restart.
  await file.write({
    server: { ...server, workers: 3 },
    health_check,
    rate_limit,
    backends: [{ url: b.url, weight: 1 }],
  });
  const refused = await fetch(`${aegis.adminUrl}/reload`, { method: "POST" });
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), /server.workers: the worker isolates are started once/);

  const drained = await fetch(`${aegis.adminUrl}/drain`, { method: "POST" });
  assert.equal(drained.status, 202, await drained.text());
  await until(
    () => noOneAnswers(aegis.port),
    "no worker accepts",
  );
  await until(() => aegis.logs.some((l) => String(l.msg).startsWith("drained")), "drained");
  assert.ok(aegis.logs.some((l) => l.msg === "configuration reloaded"));
});

Deno.test("failures spread over 2 workers open the breaker after the threshold in total", async () => {
  await using backend = startBackend(() => new Response("down", { status: 500 }));
  const config = await testConfig([backend.url], {
    circuit_breaker: { failure_threshold: 6, open_timeout: "1h" },
    retries: { attempts: 0 },
  });
  await using aegis = await startTestWorkers(config);
  const statuses = await getEach(aegis.port, 24, "/", 1);
  // Six failures reached the backend, from whichever worker; then every worker refuses.
  assert.equal(statuses.filter((s) => s === 500).length, 6, String(statuses));
  assert.equal(backend.received.length, 6);
  assert.deepEqual(statuses.slice(6), Array(18).fill(503));
  await until(() => perWorker(aegis.workers).reduce((a, b) => a + b, 0) === 24, "both reports");
  const split = perWorker(aegis.workers);
  assert.ok(split.every((count) => count > 0), `each worker took some: ${split}`);
  const status = await (await fetch(`${aegis.adminUrl}/status`)).json();
  assert.equal(status.backends[0].breaker.state, "open");
  assert.equal(status.backends[0].breaker.opens, 1);
});
