/**
 * One HTTP/1.1 exchange on one pooled connection: the request head and body
 * out, the response head in, the response body handed on as bytes or a
 * stream that reads from the socket only when asked.
 *
 * Whether the connection may carry another exchange is decided once, where
 * the exchange ends, by {@linkcode reusableAfter} and `finish`: only when
 * the response ended exactly at a message boundary with nothing unread, the
 * backend did not ask to close, the request body went out in full, and a
 * bodiless response did not announce a body it might still send. Anything
 * else (a truncated or malformed body, an abandoned body, an aborted
 * request, an error) closes it.
 *
 * @module
 */

import { ChunkedDecoder } from "./chunked.ts";
import type { H1Conn } from "./conn.ts";
import { H1ProtocolError } from "./errors.ts";
import { parseResponseHead, type ResponseHead } from "./parse.ts";
import type { HostPool } from "./pool.ts";
import { encodeChunk, LAST_CHUNK } from "./serialize.ts";
import {
  fieldValue,
  type HeaderList,
  ProxyError,
  type UpstreamRequest,
  type UpstreamResponse,
} from "../core/mod.ts";

/** Response bodies up to this size, already buffered with their head, are answered as bytes. */
const SMALL_BODY_BYTES = 64 * 1024;
/**
 * How long a response that ended before its request body was fully sent
 * waits for the rest of the body to go out before the connection is given
 * up (Go's transport waits 50 ms for its write loop in the same case).
 */
const BODY_AFTER_RESPONSE_MS = 50;

/** The peer closed (or reset) before sending a single byte of the response. */
export class NoResponse extends Error {
  override name = "NoResponse";
}

/** A request body as the exchange sends it: none, bytes with their length, or a stream. */
export type Body =
  | { readonly kind: "none" }
  | { readonly kind: "bytes"; readonly bytes: Uint8Array }
  | {
    readonly kind: "stream";
    readonly stream: ReadableStream<Uint8Array>;
    readonly length?: number;
  };

/** The {@linkcode Body} of an upstream request (a stream keeps its declared length, if any). */
export function bodyOf(request: UpstreamRequest): Body {
  const body = request.body;
  if (body === null) return { kind: "none" };
  if (body instanceof Uint8Array) {
    return body.byteLength === 0 ? { kind: "none" } : { kind: "bytes", bytes: body };
  }
  const declared = fieldValue(request.headers, "content-length");
  return declared === undefined
    ? { kind: "stream", stream: body }
    : { kind: "stream", stream: body, length: Number(declared) };
}

/** Any failure of an exchange as the request path's error. */
export function asUpstreamError(e: unknown): ProxyError {
  if (e instanceof ProxyError) return e;
  if (e instanceof H1ProtocolError) {
    return new ProxyError("upstream", `malformed response: ${e.reason}: ${e.message}`, {
      cause: e,
    });
  }
  if (e instanceof NoResponse) return new ProxyError("upstream", e.message, { cause: e });
  return new ProxyError("upstream", e instanceof Error ? e.message : String(e), { cause: e });
}

/** Sends the request on `conn` and returns the response with its body from `conn`. */
export async function exchange(
  conn: H1Conn,
  pool: HostPool,
  request: UpstreamRequest,
  head: Uint8Array,
  body: Body,
  maxHeaderBytes: number,
): Promise<UpstreamResponse> {
  const signal = request.signal;
  // [SECURITY] An aborted exchange may be anywhere in a message: its
  // connection is closed, never pooled.
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort, { once: true });
  let bodySent = body.kind !== "stream";
  let sending: Promise<void> | undefined;
  let ended = false;
  const end = (reusable: boolean) => {
    if (ended) return;
    ended = true;
    signal.removeEventListener("abort", onAbort);
    pool.release(conn, reusable && bodySent);
  };
  // The response is complete. A request body still going out gets a moment
  // to finish (the backend answered early but reads on); past that, or if
  // it fails, the connection is not at a message boundary and is closed.
  const finish: Finish = (reusable) => {
    if (!reusable || bodySent || !sending) return end(reusable);
    const timer = setTimeout(() => end(false), BODY_AFTER_RESPONSE_MS);
    const settle = (ok: boolean) => {
      clearTimeout(timer);
      end(ok);
    };
    sending.then(() => settle(true), () => settle(false));
  };
  try {
    if (body.kind === "bytes") {
      const all = new Uint8Array(head.byteLength + body.bytes.byteLength);
      all.set(head);
      all.set(body.bytes, head.byteLength);
      await conn.write(all);
    } else {
      await conn.write(head);
    }
    if (body.kind === "stream") {
      // The body goes out while the response is awaited: a backend may answer early.
      sending = sendBody(conn, body).then(() => void (bodySent = true));
      sending.catch(() => conn.close());
    }
    const response = await readHead(conn, request.method, maxHeaderBytes);
    if (
      response.framing.kind === "length" && response.framing.length <= SMALL_BODY_BYTES &&
      conn.buffered.length >= response.framing.length
    ) {
      return respondWhole(conn, response, finish, response.framing.length);
    }
    return respond(conn, response, finish, end);
  } catch (e) {
    signal.removeEventListener("abort", onAbort);
    ended = true;
    throw e;
  }
}

async function sendBody(
  conn: H1Conn,
  body: Extract<Body, { kind: "stream" }>,
): Promise<void> {
  let sent = 0;
  for await (const chunk of body.stream) {
    if (body.length !== undefined) {
      sent += chunk.byteLength;
      if (sent > body.length) {
        throw new ProxyError("upstream", "request body longer than its Content-Length");
      }
      await conn.write(chunk);
    } else {
      for (const part of encodeChunk(chunk)) await conn.write(part);
    }
  }
  if (body.length !== undefined && sent !== body.length) {
    throw new ProxyError("upstream", "request body shorter than its Content-Length");
  }
  if (body.length === undefined) await conn.write(LAST_CHUNK);
}

/** Reads response heads until a final (non-1xx) one. */
async function readHead(
  conn: H1Conn,
  method: string,
  maxHeaderBytes: number,
): Promise<ResponseHead> {
  let received = false;
  for (;;) {
    const parsed = parseResponseHead(conn.buffered, { maxHeaderBytes, requestMethod: method });
    if (parsed) {
      conn.consume(parsed.consumed);
      if (!parsed.head.interim) return parsed.head;
      received = true;
      continue;
    }
    let more: boolean;
    try {
      more = await conn.fill();
    } catch (e) {
      if (!received && conn.buffered.length === 0) {
        throw new NoResponse(`connection lost before any response: ${e}`);
      }
      throw e;
    }
    if (!more) {
      if (!received && conn.buffered.length === 0) {
        throw new NoResponse("connection closed before any response");
      }
      throw new H1ProtocolError(
        "truncated",
        "connection closed in the middle of the response head",
      );
    }
    received = true;
  }
}

/**
 * A small body that arrived with its head is answered as bytes: the
 * connection goes back to the pool at once, and a byte body is far cheaper
 * for the runtime to pass on than a stream.
 */
function respondWhole(
  conn: H1Conn,
  head: ResponseHead,
  finish: Finish,
  length: number,
): UpstreamResponse {
  const body = conn.take(length);
  finish(reusableAfter(head, conn));
  return { status: head.status, statusText: head.reason, headers: fieldsOf(head), body };
}

/** Ends an exchange whose response is complete; `reusable` is the verdict on the response alone. */
type Finish = (reusable: boolean) => void;

/**
 * The verdict on a connection whose response just ended: reusable only if
 * the backend did not ask to close (RFC 9112 §9.3), nothing was read past
 * the end of the message, and a bodiless response did not announce a body.
 */
function reusableAfter(head: ResponseHead, conn: H1Conn): boolean {
  // [SECURITY] Bytes after the end of a response are not part of any
  // exchange; read as the next response they would go to another client.
  if (!head.keepAlive || conn.buffered.length > 0) return false;
  return head.framing.kind !== "none" || !announcesBody(head);
}

/**
 * True when a response that has no body by the rules (a reply to HEAD,
 * 204, 304; RFC 9110 §6.4.1) still declares one: a `Transfer-Encoding`, or
 * a non-zero `Content-Length`. For HEAD and 304 that length is allowed and
 * usually describes the resource, but a backend that also writes the body
 * may send it in a later packet than the head, after the connection was
 * handed to the next request: closing costs one reconnect, reusing could
 * give that body to another client.
 */
function announcesBody(head: ResponseHead): boolean {
  const length = fieldValue(head.headers as HeaderList, "content-length");
  return (length !== undefined && !/^0+$/.test(length)) ||
    fieldValue(head.headers as HeaderList, "transfer-encoding") !== undefined;
}

function fieldsOf(head: ResponseHead): HeaderList {
  return head.headers as HeaderList;
}

/** Builds the client-facing response; its body pulls from the socket on demand. */
function respond(
  conn: H1Conn,
  head: ResponseHead,
  finish: Finish,
  end: (reusable: boolean) => void,
): UpstreamResponse {
  const init = { status: head.status, statusText: head.reason, headers: fieldsOf(head) };
  const framing = head.framing;
  if (framing.kind === "none") {
    finish(reusableAfter(head, conn));
    return { ...init, body: null };
  }
  let remaining = framing.kind === "length" ? framing.length : Infinity;
  const decoder = framing.kind === "chunked" ? new ChunkedDecoder() : undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        if (framing.kind === "length" && remaining === 0) {
          finish(reusableAfter(head, conn));
          return c.close();
        }
        if (conn.buffered.length === 0 && !(await conn.fill())) {
          if (framing.kind === "close") {
            finish(false);
            return c.close();
          }
          throw new H1ProtocolError(
            "truncated",
            "backend closed the connection before the body ended",
          );
        }
        if (decoder) {
          const { data, consumed, done } = decoder.push(conn.buffered);
          for (const d of data) if (d.byteLength > 0) c.enqueue(d.slice());
          conn.consume(consumed);
          if (done) {
            finish(reusableAfter(head, conn));
            c.close();
          }
          return;
        }
        const chunk = conn.take(remaining);
        if (framing.kind === "length") remaining -= chunk.byteLength;
        c.enqueue(chunk);
        if (framing.kind === "length" && remaining === 0) {
          finish(reusableAfter(head, conn));
          c.close();
        }
      } catch (e) {
        end(false);
        c.error(asUpstreamError(e));
      }
    },
    cancel() {
      // The consumer went away mid-body: the rest is unread, the connection unusable.
      end(false);
    },
  }, { highWaterMark: 0 });
  return { ...init, body: stream };
}
