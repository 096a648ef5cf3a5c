/**
 * Distributed tracing: W3C Trace Context in and out, one server span per
 * request, spans exported over OTLP/HTTP to a collector. The request path
 * sees only {@linkcode RequestTracer}; with tracing off it is a null object
 * that creates nothing.
 *
 * @module
 */

export {
  DISABLED_TRACER,
  type RequestSpan,
  type RequestTracer,
  type SpanEnd,
  type SpanStart,
} from "./request_span.ts";
export {
  cleanTracestate,
  formatTraceparent,
  type IncomingTrace,
  incomingTrace,
  parseTraceparent,
  type TraceParent,
  TRACESTATE_MAX_LENGTH,
  TRACESTATE_MAX_MEMBERS,
} from "./trace_context.ts";
export {
  DROP_WARNING_INTERVAL_MS,
  ExportQueue,
  type ExportQueueOptions,
  type SendBatch,
  TracingCounters,
} from "./export_queue.ts";
export { FLUSH_TIMEOUT_MS, Tracing, type TracingOptions } from "./tracing.ts";
