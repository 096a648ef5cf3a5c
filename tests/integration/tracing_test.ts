/**
 * Tracing end to end: a real Aegis, real backends that record the
 * `traceparent` they get, and a real OTLP/HTTP collector on a loopback port
 * decoding what the exporter sends.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { type Received, startBackend } from "../_helpers/backend.ts";
import { liveConfigFile, testConfig } from "../_helpers/config.ts";
import { SPAN_KIND_SERVER, startCollector, type TestCollector } from "../_helpers/otlp.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const SAMPLED = `00-${TRACE_ID}-${PARENT_ID}-01`;
const NOT_SAMPLED = `00-${TRACE_ID}-${PARENT_ID}-00`;
const VALID = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

/** Health checks far apart, so only real traffic reaches the backends. */
const quietHealth = { health_check: { interval: "1h", timeout: "1h" } };

/** `tracing` pointed at the collector, with any field overridden. */
function tracingTo(collector: TestCollector, extra: Record<string, unknown> = {}) {
  return { tracing: { enabled: true, endpoint: collector.endpoint, ...extra } };
}

/** The trace id, parent id and sampled flag of the `traceparent` a backend received. */
function parentOf(seen: Received | undefined) {
  const value = seen?.headers.get("traceparent") ?? "";
  const m = VALID.exec(value);
  assert.ok(m, `the backend got traceparent ${JSON.stringify(value)}`);
  return { traceId: m[1]!, spanId: m[2]!, sampled: m[3] === "01" };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.body?.cancel();
  return res.status;
}

Deno.test("a request without traceparent starts a trace: one SERVER span, the backend's parent", async () => {
  await using collector = startCollector();
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { ...quietHealth, ...tracingTo(collector) }),
  );
  await proxy.aegis.ready;
  assert.equal(await get(`${proxy.url}/orders/7?secret=1`), 200);

  const [span] = await collector.waitForSpans(1);
  const sent = parentOf(backend.received[0]);
  assert.ok(span);
  assert.equal(span.name, "GET");
  assert.equal(span.kind, SPAN_KIND_SERVER);
  assert.equal(span.parentSpanId, "", "a new trace has no parent");
  assert.equal(span.traceId, sent.traceId);
  assert.equal(span.spanId, sent.spanId, "the backend's parent is Aegis's span");
  assert.equal(sent.sampled, true);
  assert.deepEqual(span.attributes, {
    "http.request.method": "GET",
    "url.path": "/orders/7",
    "url.scheme": "http",
    "server.address": "127.0.0.1",
    "server.port": proxy.port,
    "client.address": "127.0.0.0",
    "aegis.listener": "default",
    "aegis.request_id": backend.received[0]!.headers.get("x-request-id"),
    "http.response.status_code": 200,
    "aegis.pool": "default",
    "aegis.backend": backend.url,
  });
  assert.equal(span.statusCode, 0);
  assert.equal(span.resource["service.name"], "aegis");
  // The access log names the trace.
  assert.equal(proxy.accessLogs()[0]?.trace_id, span.traceId);
});

Deno.test("an incoming traceparent is continued: same trace, the caller's span as parent, tracestate kept", async () => {
  await using collector = startCollector();
  await using backend = startBackend(() => new Response("down", { status: 503 }));
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      ...quietHealth,
      ...tracingTo(collector, { service_name: "edge" }),
    }),
  );
  await proxy.aegis.ready;
  assert.equal(
    await get(`${proxy.url}/pay`, { traceparent: SAMPLED, tracestate: "rojo=00f067aa0ba902b7" }),
    503,
  );
  const [span] = await collector.waitForSpans(1);
  const sent = parentOf(backend.received[0]);
  assert.ok(span);
  assert.equal(span.traceId, TRACE_ID);
  assert.equal(span.parentSpanId, PARENT_ID);
  assert.equal(sent.traceId, TRACE_ID);
  assert.equal(sent.spanId, span.spanId);
  assert.notEqual(sent.spanId, PARENT_ID);
  assert.equal(backend.received[0]!.headers.get("tracestate"), "rojo=00f067aa0ba902b7");
  assert.equal(span.resource["service.name"], "edge");
  // A 5xx answer is an error on a server span.
  assert.equal(span.attributes["http.response.status_code"], 503);
  assert.equal(span.attributes["error.type"], "503");
  assert.equal(span.statusCode, 2);
  assert.equal(proxy.accessLogs()[0]?.trace_id, TRACE_ID);
});

Deno.test("a retry on another backend is an event on the span", async () => {
  await using collector = startCollector();
  const gone = startBackend();
  await gone.close();
  await using live = startBackend();
  await using proxy = startTestAegis(
    await testConfig([gone.url, live.url], {
      ...quietHealth,
      backends: [{ url: gone.url, weight: 2 }, { url: live.url, weight: 1 }],
      ...tracingTo(collector),
    }),
  );
  await proxy.aegis.ready;
  assert.equal(await get(proxy.url), 200);
  const [span] = await collector.waitForSpans(1);
  assert.ok(span);
  assert.deepEqual(span.events, [{
    name: "retry",
    attributes: { "aegis.attempt": 1, "aegis.backend": gone.url, "error.type": "connect" },
  }]);
  assert.equal(span.attributes["aegis.backend"], live.url);
  assert.equal(parentOf(live.received[0]).spanId, span.spanId);
});

Deno.test("sampling: ratio 0 exports no new trace but still propagates; the caller's flag decides for its own", async (t) => {
  await using collector = startCollector();
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      ...quietHealth,
      ...tracingTo(collector, { sampling_ratio: 0 }),
    }),
  );
  await proxy.aegis.ready;

  await t.step("new traces: a fresh traceparent, flag unset, nothing exported", async () => {
    for (let i = 0; i < 5; i++) assert.equal(await get(proxy.url), 200);
    const ids = new Set(backend.received.map((r) => parentOf(r).traceId));
    assert.equal(ids.size, 5, "each request its own trace");
    for (const r of backend.received) assert.equal(parentOf(r).sampled, false);
    // The access log still names each trace.
    assert.deepEqual(new Set(proxy.accessLogs().map((l) => l.trace_id)), ids);
  });
  await t.step("a caller that sampled: its span is exported, whatever the ratio", async () => {
    assert.equal(await get(proxy.url, { traceparent: SAMPLED }), 200);
    const [span] = await collector.waitForSpans(1);
    assert.equal(span?.traceId, TRACE_ID);
    assert.equal(parentOf(backend.received.at(-1)).sampled, true);
  });
  await t.step("a caller that did not sample: flag unset, nothing exported", async () => {
    assert.equal(await get(proxy.url, { traceparent: NOT_SAMPLED }), 200);
    const sent = parentOf(backend.received.at(-1));
    assert.equal(sent.traceId, TRACE_ID);
    assert.equal(sent.sampled, false);
    assert.notEqual(sent.spanId, PARENT_ID);
  });
  await proxy.aegis.shutdown();
  assert.equal(collector.spans.length, 1, "only the sampled caller's span");
});

Deno.test("sampling: ratio 1 exports every request's span", async () => {
  await using collector = startCollector();
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { ...quietHealth, ...tracingTo(collector) }),
  );
  await proxy.aegis.ready;
  for (let i = 0; i < 20; i++) assert.equal(await get(`${proxy.url}/${i}`), 200);
  // Shutdown flushes what is queued, without waiting for the batch delay.
  await proxy.aegis.shutdown();
  assert.equal(collector.spans.length, 20);
  assert.deepEqual(
    collector.spans.map((s) => s.attributes["url.path"]).sort(),
    Array.from({ length: 20 }, (_, i) => `/${i}`).sort(),
  );
});

Deno.test("a malformed traceparent restarts the trace: the backend never gets it", async (t) => {
  await using collector = startCollector();
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { ...quietHealth, ...tracingTo(collector) }),
  );
  await proxy.aegis.ready;
  const bad = {
    "wrong length": `00-${TRACE_ID}-${PARENT_ID}-1`,
    "version ff": `ff-${TRACE_ID}-${PARENT_ID}-01`,
    "all-zero trace id": `00-${"0".repeat(32)}-${PARENT_ID}-01`,
    "all-zero parent id": `00-${TRACE_ID}-${"0".repeat(16)}-01`,
    "upper-case hex": `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`,
    "extra fields in version 00": `${SAMPLED}-what`,
    "text": "hello",
  };
  for (const [what, traceparent] of Object.entries(bad)) {
    await t.step(what, async () => {
      assert.equal(await get(proxy.url, { traceparent, tracestate: "rojo=1" }), 200);
      const received = backend.received.at(-1)!;
      const sent = parentOf(received);
      assert.notEqual(sent.traceId, TRACE_ID);
      assert.equal(received.headers.get("tracestate"), null, "tracestate goes with its parent");
    });
  }
});

Deno.test("with tracing off, traceparent and tracestate pass unchanged and the log names the trace", async () => {
  await using collector = startCollector();
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      ...quietHealth,
      tracing: { enabled: false, endpoint: collector.endpoint },
    }),
  );
  await proxy.aegis.ready;
  assert.equal(await get(proxy.url, { traceparent: SAMPLED, tracestate: "rojo=1" }), 200);
  assert.equal(await get(proxy.url), 200);
  await proxy.aegis.shutdown();
  const [first, second] = backend.received;
  assert.equal(first?.headers.get("traceparent"), SAMPLED);
  assert.equal(first?.headers.get("tracestate"), "rojo=1");
  assert.equal(second?.headers.get("traceparent"), null, "no trace is started");
  assert.deepEqual(proxy.accessLogs().map((l) => l.trace_id), [TRACE_ID, undefined]);
  assert.equal(collector.requests, 0);
});

Deno.test("a failing collector costs spans, not requests: counted in /metrics, warned about", async () => {
  await using collector = startCollector();
  collector.answer(500);
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { ...quietHealth, ...tracingTo(collector) }),
  );
  await proxy.aegis.ready;
  for (let i = 0; i < 3; i++) assert.equal(await get(proxy.url), 200);
  let metrics = "";
  for (let i = 0; i < 100 && !/proxy_tracing_spans_dropped_total 3\b/.test(metrics); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
  }
  assert.match(metrics, /proxy_tracing_spans_dropped_total 3\b/);
  assert.match(metrics, /proxy_tracing_spans_exported_total 0\b/);
  const warning = proxy.logs.find((l) => l.msg === "tracing spans dropped");
  assert.equal(warning?.reason, "export failed: collector answered 500");
});

Deno.test("a collector that never answers slows no request, and shutdown waits for it only so long", async () => {
  await using collector = startCollector();
  collector.answer("hang");
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], { ...quietHealth, ...tracingTo(collector) }),
  );
  await proxy.aegis.ready;
  assert.equal(await get(proxy.url), 200);
  // Held by the collector from here on; the next requests queue behind it.
  while (collector.requests === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  for (let i = 0; i < 3; i++) assert.equal(await get(proxy.url), 200);
  await proxy.aegis.shutdown();
  const warning = proxy.logs.find((l) => l.msg === "tracing spans dropped");
  assert.ok(warning, "dropped spans are reported at shutdown");
  assert.ok(proxy.logs.some((l) => l.msg === "Aegis shutdown complete"));
});

Deno.test("a reload that changes tracing moves export to the new collector, flushing the old", async () => {
  await using first = startCollector();
  await using second = startCollector();
  await using backend = startBackend();
  const base = {
    ...quietHealth,
    server: { host: "127.0.0.1", port: 0 },
    backends: [{ url: backend.url, weight: 1 }],
  };
  await using file = await liveConfigFile({ ...base, ...tracingTo(first) });
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  await proxy.aegis.ready;
  assert.equal(await get(`${proxy.url}/before`), 200);

  await file.write({ ...base, ...tracingTo(second, { service_name: "moved" }) });
  const result = await proxy.aegis.reload();
  assert.ok(result.ok, JSON.stringify(result));
  // The old exporter flushed on its way out, without waiting for its batch delay.
  assert.deepEqual(first.spans.map((s) => s.attributes["url.path"]), ["/before"]);

  assert.equal(await get(`${proxy.url}/after`), 200);
  const [span] = await second.waitForSpans(1);
  assert.equal(span?.attributes["url.path"], "/after");
  assert.equal(span?.resource["service.name"], "moved");

  await file.write({ ...base, tracing: { enabled: false } });
  assert.ok((await proxy.aegis.reload()).ok);
  assert.equal(await get(`${proxy.url}/off`), 200);
  assert.equal(backend.received.at(-1)?.headers.get("traceparent"), null);
});
