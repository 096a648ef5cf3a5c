/**
 * Body streams on the proxy path. Both directions are passed through chunk
 * by chunk, never buffered, with the limits that keep a slow or hostile peer
 * from holding resources:
 *
 * - request bodies: at most `server.max_body_bytes`, and no pause longer than
 *   `server.read_timeout` while the client is sending;
 * - response bodies: no pause longer than `upstream.read_timeout` while the
 *   backend is sending, and no wait longer than `server.write_timeout` for
 *   the client to take the next chunk.
 *
 * The streams use a high-water mark of zero, so a chunk is only read when
 * the other side asks for one: backpressure reaches all the way through.
 *
 * @module
 */

import type { Watchdog } from "../clock/mod.ts";
import { concatBytes, ProxyError } from "../core/mod.ts";

/** Limits for a request body. */
export interface RequestBodyLimits {
  /** Most bytes the body may have. */
  readonly maxBytes: number;
  /** Longest pause allowed while waiting for the client's next chunk. */
  readonly idleMs: number;
  /** Expires the pause deadline. */
  readonly watchdog: Watchdog;
  /** Called when the stream starts waiting for the client. */
  readonly onWaitClient?: () => void;
  /** Called with the size of each chunk handed on, and with 0 when the body ended. */
  readonly onProgress?: (bytes: number) => void;
}

/** A guarded request body and what happened to it. */
export interface GuardedRequestBody {
  /** The stream to forward. */
  readonly stream: ReadableStream<Uint8Array>;
  /** Bytes passed through so far. */
  readonly bytes: () => number;
  /** Why the body was cut off, if it was. */
  readonly failure: () => ProxyError | undefined;
}

/**
 * What the runtime's HTTP/1 server says when a request body breaks its own
 * framing. Measured on Deno 2.9: a chunk size that is not hex, one that
 * overflows 64 bits, chunk data not followed by CRLF and a malformed trailer
 * all reject the body read with a plain `Error` whose message is
 * `invalid HTTP/1 request: Invalid`; a client that goes away mid-body
 * (closed, reset or half-closed) rejects it with `Deno.errors.BadResource`
 * instead. `tests/integration/malformed_body_test.ts` fails if a runtime
 * upgrade changes either.
 */
const MALFORMED_FRAMING = /^(?:Error: )?invalid HTTP\/1 request/;

/**
 * True when `e`, from reading a request body or from the server's
 * connection, means the client's message framing was broken (as opposed to
 * the client going away).
 *
 * @example
 * ```ts
 * isMalformedFraming(new Error("invalid HTTP/1 request: Invalid")); // true
 * isMalformedFraming(new Error("Cannot read request body as underlying resource unavailable")); // false
 * ```
 */
export function isMalformedFraming(e: unknown): boolean {
  return e instanceof Error && MALFORMED_FRAMING.test(e.message);
}

/**
 * The error for a failed read of a request body: `malformed_body` when the
 * framing was broken, `client_closed` when the client went away. A
 * {@linkcode ProxyError} (from a guard further in) is kept as it is.
 *
 * @example
 * ```ts
 * bodyReadFailure(new Error("invalid HTTP/1 request: Invalid")).kind; // "malformed_body"
 * bodyReadFailure(new Error("Cannot read request body as underlying resource unavailable")).kind; // "client_closed"
 * ```
 */
export function bodyReadFailure(e: unknown): ProxyError {
  if (e instanceof ProxyError) return e;
  // [SECURITY] Request smuggling and blind spots: broken framing is the client's
  // protocol error, answered 400 and counted, never taken for a client that left
  // (unlogged as an attack) nor for a backend failure (which would trip breakers).
  if (isMalformedFraming(e)) {
    return new ProxyError("malformed_body", "request body framing is malformed", { cause: e });
  }
  return new ProxyError("client_closed", "client aborted the request body", { cause: e });
}

/**
 * Wraps a request body so that it errors, and stops, as soon as it exceeds
 * `maxBytes` (the chunk that crosses the limit is not forwarded) or the
 * client pauses for longer than `idleMs`.
 */
export function guardRequestBody(
  body: ReadableStream<Uint8Array>,
  limits: RequestBodyLimits,
): GuardedRequestBody {
  const reader = body.getReader();
  let bytes = 0;
  let failure: ProxyError | undefined;
  let ctl: ReadableStreamDefaultController<Uint8Array>;
  const fail = (error: ProxyError) => {
    if (failure) return;
    failure = error;
    watch[Symbol.dispose]();
    reader.cancel(error).catch(() => {});
    try {
      ctl.error(error);
    } catch {
      // Already closed or errored.
    }
  };
  // [SECURITY] Slowloris on the body: a client that pauses longer than idleMs
  // loses the request instead of holding a connection and a backend slot.
  const watch = limits.watchdog.watch(() =>
    fail(new ProxyError("client_timeout", `request body stalled for ${limits.idleMs}ms`))
  );
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
    },
    async pull(c) {
      watch.arm(limits.idleMs);
      limits.onWaitClient?.();
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (e) {
        if (!failure) fail(bodyReadFailure(e));
        return;
      } finally {
        watch.disarm();
      }
      if (failure) return;
      if (result.done) {
        watch[Symbol.dispose]();
        c.close();
        limits.onProgress?.(0);
        return;
      }
      // [SECURITY] Resource exhaustion: an undeclared body is measured as it
      // streams; the chunk that crosses the limit is never forwarded.
      if (bytes + result.value.byteLength > limits.maxBytes) {
        fail(new ProxyError("body_too_large", `request body exceeds ${limits.maxBytes} bytes`));
        return;
      }
      bytes += result.value.byteLength;
      c.enqueue(result.value);
      limits.onProgress?.(result.value.byteLength);
    },
    cancel(reason) {
      watch[Symbol.dispose]();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return { stream, bytes: () => bytes, failure: () => failure };
}

/** How a response body ended. */
export type BodyOutcome =
  /** Every byte reached the client. */
  | "complete"
  /** The client went away first. */
  | "client_closed"
  /** The client stopped reading for longer than `server.write_timeout`. */
  | "write_timeout"
  /** The backend paused for longer than `upstream.read_timeout`. */
  | "upstream_timeout"
  /** The backend's body failed (reset, truncated, malformed). */
  | "upstream_error";

/** Limits and observers for a response body. */
export interface ResponseBodyOptions {
  /** Longest wait for the client to take the next chunk. */
  readonly writeIdleMs: number;
  /** Longest wait for the backend's next chunk. */
  readonly readIdleMs: number;
  /** Expires both deadlines. */
  readonly watchdog: Watchdog;
  /** Called exactly once, when the body ends for any reason. */
  readonly onEnd: (outcome: BodyOutcome, bytes: number, error?: unknown) => void;
}

/**
 * Wraps a backend response body: counts bytes, enforces both pause limits,
 * and reports exactly once how the body ended. When a limit trips, the
 * backend body is cancelled and the client stream errors, which makes the
 * server abort the connection instead of sending a truncated body that looks
 * complete.
 */
export function guardResponseBody(
  body: ReadableStream<Uint8Array>,
  options: ResponseBodyOptions,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  let ended = false;
  let waitingOn: "client" | "backend" = "backend";
  let ctl: ReadableStreamDefaultController<Uint8Array>;
  const end = (outcome: BodyOutcome, error?: unknown) => {
    if (ended) return;
    ended = true;
    watch[Symbol.dispose]();
    if (outcome !== "complete") reader.cancel(error).catch(() => {});
    options.onEnd(outcome, bytes, error);
  };
  // [SECURITY] Slow readers and stalled backends: neither side may hold the
  // other's connection open by pausing mid-body.
  const watch = options.watchdog.watch(() => {
    const outcome = waitingOn === "client" ? "write_timeout" : "upstream_timeout";
    const error = new ProxyError(
      outcome === "write_timeout" ? "client_closed" : "upstream",
      outcome === "write_timeout"
        ? `client read nothing for ${options.writeIdleMs}ms`
        : `backend sent nothing for ${options.readIdleMs}ms`,
    );
    end(outcome, error);
    try {
      ctl.error(error);
    } catch {
      // Already closed.
    }
  });
  return new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
    },
    async pull(c) {
      waitingOn = "backend";
      watch.arm(options.readIdleMs);
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (e) {
        if (!ended) {
          end("upstream_error", e);
          // Reported by onEnd already; the listener knows a ProxyError's story is told.
          c.error(
            e instanceof ProxyError ? e : new ProxyError("upstream", String(e), { cause: e }),
          );
        }
        return;
      }
      if (ended) return;
      if (result.done) {
        end("complete");
        c.close();
        return;
      }
      bytes += result.value.byteLength;
      waitingOn = "client";
      watch.arm(options.writeIdleMs);
      c.enqueue(result.value);
    },
    cancel(reason) {
      end("client_closed", reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Request bodies up to this size are read in full before forwarding. `fetch`
 * cannot send `Content-Length` with a streamed body (it is a forbidden
 * header) and many backends refuse chunked uploads, so small bodies (typical
 * API calls) reach the backend with their length; they can also be sent
 * again when the first backend cannot be reached. Larger ones stream
 * through, chunked, never held in memory.
 */
export const SMALL_BODY_BYTES = 64 * 1024;

/** A request body made ready for forwarding. */
export type PreparedBody =
  /** No body, or one read in full: can be sent as often as needed. */
  | { readonly replayable: true; readonly payload: Uint8Array<ArrayBuffer> | undefined }
  /** A large body that streams through once. */
  | { readonly replayable: false; readonly stream: ReadableStream<Uint8Array> };

/**
 * Reads a request body in full when it is at most {@linkcode SMALL_BODY_BYTES}:
 * declared so by `Content-Length`, or found so by reading (a chunked body,
 * or an HTTP/2 body without a length). A body that turns out larger streams
 * on, starting with the bytes already read.
 *
 * @throws {ProxyError} body_too_large, client_timeout, malformed_body or client_closed
 */
export async function prepareBody(
  request: Request,
  limits: RequestBodyLimits,
): Promise<PreparedBody> {
  if (!request.body) return { replayable: true, payload: undefined };
  const declared = request.headers.get("content-length");
  // [SECURITY] Memory exhaustion: only bodies up to SMALL_BODY_BYTES are ever
  // held; a larger one streams, whatever the client declared.
  if (declared !== null && Number(declared) > SMALL_BODY_BYTES) {
    return { replayable: false, stream: request.body };
  }
  const guarded = guardRequestBody(request.body, limits);
  const reader = guarded.stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total <= SMALL_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) return { replayable: true, payload: concatBytes(chunks, total) };
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (e) {
    throw guarded.failure() ?? bodyReadFailure(e);
  }
  // Too large to hold: hand on what was read, then the rest as it comes.
  return {
    replayable: false,
    stream: new ReadableStream<Uint8Array>({
      async pull(c) {
        const head = chunks.shift();
        if (head) return c.enqueue(head);
        const { done, value } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 }),
  };
}
