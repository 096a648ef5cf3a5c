/**
 * What tracing adds to every request: starting and ending its span, with
 * tracing off (the null tracer), on with `sampling_ratio: 0` (ids and a
 * `traceparent`, nothing recorded), and on with `1` (a recorded span,
 * queued for export). The exporter here has no network permission, so
 * every send fails and its spans are dropped: only the request path's share
 * is measured, which is what a request waits for.
 *
 * Run: `deno task bench:micro`
 *
 * @module
 */

import { systemClock } from "../../src/clock/mod.ts";
import type { HeaderList } from "../../src/core/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DISABLED_TRACER, type SpanStart, TracingCounters } from "../../src/tracing/mod.ts";
import { otelTracer } from "../../src/tracing/otel.ts";

const FIELDS: HeaderList = [
  ["accept", "*/*"],
  ["host", "shop.example.com"],
  ["user-agent", "curl/8.5.0"],
];
const START: SpanStart = {
  fields: FIELDS,
  method: "GET",
  path: "/products/42",
  scheme: "http",
  authority: "shop.example.com",
  clientIp: "203.0.113.7",
  port: 8080,
  listener: "default",
  requestId: "0b6d3c1e-8f5a-4b7e-9c2d-1a2b3c4d5e6f",
};
const WITH_PARENT: SpanStart = {
  ...START,
  fields: [...FIELDS, ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]],
};
const END = { status: 200, pool: "default", backend: "http://10.0.0.1:8080" };

const quiet = createLogger({ level: "error", sink: () => {} });
const parts = { clock: systemClock, logger: quiet, counters: new TracingCounters() };
const config = (ratio: number) => ({
  enabled: true,
  endpoint: "http://127.0.0.1:9/v1/traces",
  sampling_ratio: ratio,
  service_name: "bench",
});
const never = otelTracer(config(0), parts).tracer;
const always = otelTracer(config(1), parts).tracer;

Deno.bench("tracing off: no traceparent", { group: "span", baseline: true }, () => {
  DISABLED_TRACER.start(START).end(END);
});
Deno.bench("tracing off: a traceparent to pass on", { group: "span" }, () => {
  DISABLED_TRACER.start(WITH_PARENT).end(END);
});
Deno.bench("tracing on, sampling_ratio 0: a new trace", { group: "span" }, () => {
  never.start(START).end(END);
});
Deno.bench("tracing on, sampling_ratio 1: a new trace, recorded", { group: "span" }, () => {
  always.start(START).end(END);
});
Deno.bench("tracing on, sampling_ratio 1: a caller's trace, recorded", { group: "span" }, () => {
  always.start(WITH_PARENT).end(END);
});
