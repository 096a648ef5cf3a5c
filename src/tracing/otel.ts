/**
 * Spans with the OpenTelemetry JS SDK, exported over OTLP/HTTP (JSON).
 * Loaded only when `tracing.enabled` is true (`tracing.ts` imports it on
 * demand), so a configuration without tracing never loads the SDK.
 *
 * What is taken from the SDK, and what is not, and why:
 * - `@opentelemetry/sdk-trace` makes the spans: ids, the parent-based
 *   ratio sampler, span limits. One provider per configuration, never
 *   registered globally, so a reload builds a new one beside the old.
 * - `@opentelemetry/otlp-transformer` writes OTLP/JSON.
 * - Not `@opentelemetry/exporter-trace-otlp-http`: it reads some twenty
 *   `OTEL_EXPORTER_OTLP_*` environment variables (each one a `NotCapable`
 *   error under `--allow-env=<list>`, and a second source of settings
 *   beside `aegis.yml`), and retries with timers of its own. The send is
 *   one `fetch` here, timed and bounded by `export_queue.ts`.
 *
 * @module
 */

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  ParentBasedSampler,
  type ReadableSpan,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { Clock } from "../clock/mod.ts";
import type { TracingConfig } from "../config/mod.ts";
import type { HeaderList } from "../core/mod.ts";
import type { Logger } from "../log/mod.ts";
import { maskClientIp } from "../net/mod.ts";
import { VERSION } from "../version.ts";
import { ExportQueue, type SendBatch, type TracingCounters } from "./export_queue.ts";
import type { RequestSpan, RequestTracer, SpanEnd, SpanStart } from "./request_span.ts";
import { formatTraceparent, incomingTrace } from "./trace_context.ts";

/** What a running exporter needs from Aegis. */
export interface OtelParts {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly counters: TracingCounters;
}

/** A tracer and the way to stop it. */
export interface OtelTracer {
  readonly tracer: RequestTracer;
  /** Sends what is queued, waiting at most `timeoutMs`; drops the rest. */
  close(timeoutMs: number): Promise<void>;
}

/** Methods semantic conventions name; any other is `_OTHER` (semconv `http.request.method`). */
const KNOWN_METHODS = new Set([
  "CONNECT",
  "DELETE",
  "GET",
  "HEAD",
  "OPTIONS",
  "PATCH",
  "POST",
  "PUT",
  "QUERY",
  "TRACE",
]);

/** POSTs a batch as OTLP/JSON; rejects unless the collector answers 2xx. */
function otlpHttpJson(endpoint: string): SendBatch<ReadableSpan> {
  return async (batch, signal) => {
    const body = JsonTraceSerializer.serializeRequest([...batch]);
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body as Uint8Array<ArrayBuffer>,
      signal,
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`collector answered ${res.status}`);
  };
}

/** `host` and `port` of an authority (`example.com:8080`, `[::1]:8080`), the listener's port by default. */
function hostAndPort(authority: string, port: number): [string, number] {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(authority);
  if (!m) return [authority, port];
  return [m[1]!.replace(/^\[|\]$/g, ""), m[2] ? Number(m[2]) : port];
}

/**
 * Builds a tracer from `tracing`: parent-based sampling (a caller's
 * `sampled` flag decides; `sampling_ratio` decides for new traces), spans
 * batched to `endpoint`.
 */
export function otelTracer(config: TracingConfig, parts: OtelParts): OtelTracer {
  const queue = new ExportQueue<ReadableSpan>({
    send: otlpHttpJson(config.endpoint),
    clock: parts.clock,
    logger: parts.logger,
    counters: parts.counters,
  });
  const processor: SpanProcessor = {
    onStart() {},
    onEnd: (span) => queue.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": config.service_name,
      "service.version": VERSION,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampling_ratio) }),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer("aegis", VERSION);

  const start = (request: SpanStart): RequestSpan => {
    const incoming = incomingTrace(request.fields);
    const parent = incoming
      ? trace.setSpanContext(ROOT_CONTEXT, {
        traceId: incoming.parent.traceId,
        spanId: incoming.parent.spanId,
        traceFlags: incoming.parent.sampled ? 1 : 0,
        isRemote: true,
      })
      : ROOT_CONTEXT;
    const known = KNOWN_METHODS.has(request.method);
    const span = tracer.startSpan(known ? request.method : "HTTP", {
      kind: SpanKind.SERVER,
    }, parent);
    const { traceId, spanId, traceFlags } = span.spanContext();
    // A trace not sampled still gets Aegis's span id and the flag unset:
    // the backend's spans hang off Aegis either way (W3C §3.2.2.5).
    const propagate: HeaderList = [
      ["traceparent", formatTraceparent(traceId, spanId, (traceFlags & 1) === 1)],
    ];
    if (incoming?.tracestate) propagate.push(["tracestate", incoming.tracestate]);
    if (!span.isRecording()) {
      return { traceId, propagate, retried() {}, end: () => span.end() };
    }
    const [host, port] = hostAndPort(request.authority, request.port);
    span.setAttributes({
      "http.request.method": known ? request.method : "_OTHER",
      ...(known ? {} : { "http.request.method_original": request.method }),
      "url.path": request.path,
      "url.scheme": request.scheme,
      "server.address": host,
      "server.port": port,
      // [SECURITY] Privacy: a trace holds the client address masked, as the access log does.
      "client.address": maskClientIp(request.clientIp),
      "aegis.listener": request.listener,
      "aegis.request_id": request.requestId,
    });
    let attempt = 0;
    return {
      traceId,
      propagate,
      retried(backend, kind) {
        span.addEvent("retry", {
          "aegis.attempt": ++attempt,
          "aegis.backend": backend,
          "error.type": kind,
        });
      },
      end(result: SpanEnd) {
        span.setAttributes({
          "http.response.status_code": result.status,
          ...(result.pool ? { "aegis.pool": result.pool } : {}),
          ...(result.backend ? { "aegis.backend": result.backend } : {}),
          ...(result.outcome ? { "aegis.outcome": result.outcome } : {}),
        });
        // Server spans: 5xx is an error, 4xx is the client's (semconv HTTP spans).
        if (result.status >= 500) {
          span.setAttribute("error.type", result.reason ?? String(result.status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      },
    };
  };

  return {
    tracer: { start },
    close: (timeoutMs) => queue.close(timeoutMs),
  };
}
