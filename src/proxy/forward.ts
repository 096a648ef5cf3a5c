/**
 * The forwarding core: `(request, backend) → Promise<Response>`. It builds
 * the upstream request (URL, headers, guarded body), waits for the backend's
 * response headers no longer than `upstream.response_header_timeout` (counted
 * from the last request byte the backend took, as Go's `ResponseHeaderTimeout`
 * counts from the end of the request), and
 * turns every failure into a {@linkcode ProxyError} that says what happened.
 *
 * @module
 */

import type { Watchdog } from "../clock/mod.ts";
import type { Backend } from "../pool/mod.ts";
import { guardRequestBody } from "./body.ts";
import { upstreamHeaders } from "./headers.ts";
import type { RequestTarget } from "./target.ts";
import {
  type HeaderFields,
  type HeaderList,
  localResourceError,
  ProxyError,
  type Send,
  type UpstreamRequest,
  type UpstreamResponse,
} from "../core/mod.ts";

/** Settings of the forwarding core. */
export interface ForwardOptions {
  /** Sends the upstream request. */
  readonly send: Send;
  /** Expires header and body deadlines. */
  readonly watchdog: Watchdog;
  /** `upstream.response_header_timeout`. */
  readonly responseHeaderTimeoutMs: number;
  /** `server.read_timeout`: longest pause in a request body. */
  readonly bodyIdleMs: number;
  /** `server.max_body_bytes`. */
  readonly maxBodyBytes: number;
  /** `upstream.preserve_host`. */
  readonly preserveHost: boolean;
}

/** What the core needs to know about the request besides the `Request`. */
export interface ForwardInput {
  /** The client's request. */
  readonly request: Request;
  /** Its header fields, read once. */
  readonly fields: HeaderFields;
  /** Its raw target. */
  readonly target: RequestTarget;
  /** The socket peer. */
  readonly clientIp: string;
  /** The request id. */
  readonly requestId: string;
  /** `traceparent` and `tracestate` to send instead of the client's; theirs go on when absent. */
  readonly trace?: HeaderList;
  /** How the client reached Aegis. */
  readonly proto: "http" | "https";
  /** Told how many request body bytes went to the backend, chunk by chunk. */
  readonly onSent?: (bytes: number) => void;
  /** The request body: read in full (small bodies), or a stream to forward once. */
  readonly body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | undefined;
}

/** Classifies a transport failure: could the backend have seen the request? */
function transportFailure(e: unknown): ProxyError {
  // Transports that know what failed say so themselves (the h1 transport).
  if (e instanceof ProxyError) return e;
  // Checked first: fetch words an EMFILE connect as "(Connect)" too, and
  // Aegis running out of descriptors must not count against the backend.
  const local = localResourceError(e);
  if (local) return local;
  const text = e instanceof Error
    ? `${e.message} ${String((e as { cause?: unknown }).cause ?? "")}`
    : String(e);
  // Deno's fetch reports connection setup failures as "client error (Connect)";
  // nothing was sent, so another backend may take the request.
  const connect = /\(Connect\)|tcp connect error|Connection refused|dns error|failed to lookup/i
    .test(text);
  return new ProxyError(connect ? "connect" : "upstream", text, { cause: e });
}

/**
 * Sends the request to `backend` and returns the backend's response as is
 * (headers untouched, body as the transport gave it).
 *
 * @throws {ProxyError} connect, upstream, upstream_timeout, not_implemented,
 *   body_too_large, client_timeout, malformed_body, client_closed or
 *   local_resource
 */
export async function forward(
  input: ForwardInput,
  backend: Backend,
  options: ForwardOptions,
): Promise<UpstreamResponse> {
  const { request } = input;
  const abort = new AbortController();
  let timedOut = false;
  using headerWatch = options.watchdog.watch(() => {
    timedOut = true;
    abort.abort();
  });
  const onClientAbort = () => abort.abort();

  // The header timeout measures the backend, not the client: it runs while the
  // backend has the next move (taking body bytes, or answering once it has
  // them all), and pauses while the body waits on the client.
  const body = input.body instanceof ReadableStream
    ? guardRequestBody(input.body, {
      maxBytes: options.maxBodyBytes,
      idleMs: options.bodyIdleMs,
      watchdog: options.watchdog,
      onWaitClient: () => headerWatch.disarm(),
      onProgress: (bytes) => {
        headerWatch.arm(options.responseHeaderTimeoutMs);
        input.onSent?.(bytes);
      },
    })
    : undefined;
  if (input.body instanceof Uint8Array) input.onSent?.(input.body.byteLength);
  const headers = upstreamHeaders(input.fields, {
    clientIp: input.clientIp,
    requestId: input.requestId,
    trace: input.trace,
    proto: input.proto,
    host: input.target.authority,
    preserveHost: options.preserveHost,
  });
  // A body read in full is sent with its length (for a small chunked upload,
  // a length it did not have); a streamed one keeps the client's, if any.
  const lengthAt = headers.findIndex(([name]) => name.toLowerCase() === "content-length");
  if (lengthAt >= 0 && !body) headers.splice(lengthAt, 1);
  if (input.body instanceof Uint8Array) {
    headers.push(["content-length", String(input.body.byteLength)]);
  }
  // `OPTIONS *` asks about the server, not a resource (RFC 9112 §3.2.4): the
  // URL names the backend's base, and the transport sends `*` as the target.
  const asterisk = input.target.path === "*";
  const upstream: UpstreamRequest = {
    method: request.method,
    url: backend.base + (asterisk ? "/" : input.target.path) + input.target.query,
    ...(asterisk ? { target: "*" } : {}),
    headers,
    body: body?.stream ?? input.body ?? null,
    signal: abort.signal,
  };

  request.signal.addEventListener("abort", onClientAbort, { once: true });
  // [SECURITY] Resource exhaustion: a backend that never answers holds a
  // request for upstream.response_header_timeout at most.
  headerWatch.arm(options.responseHeaderTimeoutMs);
  try {
    return await options.send(upstream);
  } catch (e) {
    const bodyFailure = body?.failure();
    if (bodyFailure) throw bodyFailure;
    if (timedOut) {
      throw new ProxyError(
        "upstream_timeout",
        `no response headers from ${backend.id} within ${options.responseHeaderTimeoutMs}ms`,
        { cause: e },
      );
    }
    if (request.signal.aborted) {
      throw new ProxyError("client_closed", "client went away before the response", { cause: e });
    }
    throw transportFailure(e);
  } finally {
    request.signal.removeEventListener("abort", onClientAbort);
  }
}
