/**
 * The request path's view of tracing: one {@linkcode RequestSpan} per
 * request, started when the request arrives and ended with its access-log
 * line. With tracing off, the tracer is a null object (Envoy's habit): no
 * span, no id generated, the client's trace headers forwarded as they came,
 * and only the trace id of a valid incoming `traceparent` kept for the log.
 *
 * @module
 */

import type { HeaderFields, HeaderList } from "../core/mod.ts";
import { incomingTrace } from "./trace_context.ts";

/** What a request's span is started from. */
export interface SpanStart {
  /** The client's header fields, read once. */
  readonly fields: HeaderFields;
  readonly method: string;
  /** The raw path, without the query. */
  readonly path: string;
  /** `http` or `https`: how the client reached Aegis. */
  readonly scheme: string;
  /** `host[:port]` the client asked for. */
  readonly authority: string;
  /** The socket peer's address. */
  readonly clientIp: string;
  /** The listener's port. */
  readonly port: number;
  /** The listener's name. */
  readonly listener: string;
  /** The request id. */
  readonly requestId: string;
}

/** How a request ended, for its span. */
export interface SpanEnd {
  readonly status: number;
  /** The pool routing chose, if any. */
  readonly pool?: string;
  /** The backend tried last, if any. */
  readonly backend?: string;
  /** Why Aegis refused or failed the request, if it did. */
  readonly reason?: string;
  /** How a streamed body ended, when not complete. */
  readonly outcome?: string;
}

/** One request's part in a trace. */
export interface RequestSpan {
  /** The trace the request belongs to, for the access log; `undefined` when it has none. */
  readonly traceId: string | undefined;
  /**
   * The `traceparent` (and `tracestate`) a backend gets in place of the
   * client's; `undefined`: the client's are forwarded as they came.
   */
  readonly propagate: HeaderList | undefined;
  /** Records that the attempt on `backend` failed (`kind`) and the request is tried again. */
  retried(backend: string, kind: string): void;
  /** Ends the span; called once, with the access-log line. */
  end(result: SpanEnd): void;
}

/** Starts a span per request. */
export interface RequestTracer {
  start(request: SpanStart): RequestSpan;
}

const noop = () => {};

/** No trace at all: the span of every request without a valid `traceparent` when tracing is off. */
const NO_SPAN: RequestSpan = Object.freeze({
  traceId: undefined,
  propagate: undefined,
  retried: noop,
  end: noop,
});

/**
 * The tracer while `tracing.enabled` is false: it creates no span and no
 * id, and forwards the client's `traceparent` and `tracestate` unchanged;
 * the access log still names the trace of a valid `traceparent`.
 */
export const DISABLED_TRACER: RequestTracer = Object.freeze({
  start(request: SpanStart): RequestSpan {
    const trace = incomingTrace(request.fields);
    return trace ? { ...NO_SPAN, traceId: trace.parent.traceId } : NO_SPAN;
  },
});
