/**
 * Upstream transports. The request path talks to a transport through
 * {@linkcode Send}: plain header lists and bodies that are bytes or a
 * stream, because building a `Request` and reading back a `Response` copies
 * and revalidates every header on each side of every request. Health checks
 * and tests use the fetch-shaped {@linkcode Transport} every transport also
 * offers. Two transports exist: the pooled HTTP/1.1 client in `src/h1/`
 * (the default for `http:` backends) and the runtime's `fetch` with a
 * dedicated HTTP client here (for `https:` backends, or when configured).
 *
 * @module
 */

import { ProxyError } from "./errors.ts";
import { fieldList, type HeaderList } from "./headers.ts";

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

/**
 * Sends through a fetch-shaped transport: the `Request` is built from the
 * list, and the `Response` read back into one.
 *
 * @throws {ProxyError} not_implemented for the asterisk form (`target: "*"`)
 */
export function sendVia(transport: Transport): Send {
  return async (request) => {
    // A `Request` holds a URL, and a URL's path cannot be `*`: rather than ask
    // about a resource the client never named (`OPTIONS /`), send nothing.
    if (request.target !== undefined) {
      throw new ProxyError(
        "not_implemented",
        `a fetch-shaped transport cannot send the request-target ${request.target}`,
      );
    }
    // `duplex: "half"` is what fetch requires for a streaming body; lib.dom lacks it.
    const init: RequestInit & { duplex: "half" } = {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: request.signal,
      duplex: "half",
    };
    const res = await transport(new Request(request.url, init));
    return {
      status: res.status,
      statusText: res.statusText,
      headers: fieldList(res.headers),
      body: res.body,
    };
  };
}

/**
 * The runtime's `fetch` behind a dedicated `Deno.HttpClient`, which is what
 * lets a client's `Host` header through (`allowHost`) and gives Aegis its own
 * connection pool to close on shutdown.
 *
 * `fetch` decodes gzip and brotli bodies by itself whenever the request
 * accepted them, and cannot be told not to (denoland/deno#12291), while
 * keeping `Content-Encoding` and `Content-Length` as the backend sent them:
 * relayed as is, a client would get a plain body labelled compressed. So
 * requests through `fetch` always ask the backend for `identity`; a body a
 * backend compresses anyway is not decoded, and passes through labelled.
 */
export function fetchTransport(): ClosableTransport {
  const client = Deno.createHttpClient({ allowHost: true });
  // [SECURITY] Duplicate side effects: the runtime's client sends a request
  // again, on a new connection, when a reused one closes before the answer,
  // even after the backend read it. Requests that must not arrive twice go
  // on connections that are never reused, where it never does that.
  const once = Deno.createHttpClient({ allowHost: true, poolMaxIdlePerHost: 0 });
  const send = (request: Request) => {
    request.headers.set("accept-encoding", "identity");
    return fetch(request, {
      client: isIdempotent(request.method) ? client : once,
      redirect: "manual",
    });
  };
  return {
    send: sendVia(send),
    fetch: send,
    [Symbol.dispose]() {
      client.close();
      once.close();
    },
  };
}

/**
 * Picks a transport per request by scheme: `http:` to `plain`, everything
 * else to `secure`. Disposing it disposes both.
 */
export function byScheme(plain: ClosableTransport, secure: ClosableTransport): ClosableTransport {
  const pick = (url: string) => url.startsWith("http:") ? plain : secure;
  return {
    send: (request) => pick(request.url).send(request),
    fetch: (request) => pick(request.url).fetch(request),
    [Symbol.dispose]() {
      plain[Symbol.dispose]();
      secure[Symbol.dispose]();
    },
  };
}
