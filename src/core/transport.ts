/**
 * The upstream transport contract. The request path talks to a transport
 * through {@linkcode Send}: plain header lists and bodies that are bytes or
 * a stream, because building a `Request` and reading back a `Response`
 * copies and revalidates every header on each side of every request.
 * Health checks and tools use the fetch-shaped {@linkcode Transport} every
 * transport also offers. Implementations: `src/h1/` (pooled HTTP/1.1) and
 * `src/proxy/transport.ts` (the runtime's `fetch`).
 *
 * @module
 */

import type { HeaderList } from "./fields.ts";

/**
 * Methods whose requests may be sent to a backend more than once, by a
 * retry on another backend or by a transport after a keep-alive race
 * (RFC 9110 §9.2.2). POST and PATCH never are: a backend may have acted on
 * the first copy.
 */
const IDEMPOTENT: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "PUT",
  "DELETE",
  "TRACE",
]);

/** True when a request with `method` may be sent again (see {@linkcode IDEMPOTENT}). */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** A fetch-shaped function that sends a request to a backend. */
export type Transport = (request: Request) => Promise<Response>;

/** A body as the request path holds it: read in full, streaming, or none. */
export type Payload = Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;

/** A request for a backend, ready to send. */
export interface UpstreamRequest {
  readonly method: string;
  /** Absolute URL of the backend resource. */
  readonly url: string;
  /**
   * The request-target to send instead of the URL's path and query. Only
   * `*`, the asterisk form of `OPTIONS` (RFC 9112 §3.2.4), which no URL can
   * express; `url` then names the backend's base. A transport that cannot
   * send it fails with `not_implemented` before sending anything.
   */
  readonly target?: "*";
  /** The fields to send; the transport adds framing (`Content-Length`, chunking) itself. */
  readonly headers: HeaderList;
  /** A streamed body is sent with the `Content-Length` in `headers`, or chunked without one. */
  readonly body: Payload | null;
  /** Aborting it abandons the exchange and its connection. */
  readonly signal: AbortSignal;
}

/** A backend's response, headers as received. */
export interface UpstreamResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: HeaderList;
  readonly body: Payload | null;
}

/** Sends a request to a backend; rejects when no usable response head came back. */
export type Send = (request: UpstreamRequest) => Promise<UpstreamResponse>;

/** A transport that owns connections and must be closed. */
export interface ClosableTransport extends Disposable {
  /** Sends a request (the request path). */
  readonly send: Send;
  /** Sends a request, fetch-shaped (health checks, tools). */
  readonly fetch: Transport;
}
