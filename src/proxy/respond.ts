/**
 * The end of the request path: shaping what goes back to the client
 * (security headers, hop-by-hop removal, guarded body) and writing exactly
 * one access-log line, when the body ends.
 *
 * @module
 */

import type { Clock, Watchdog } from "../clock/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { DurationHistograms, GlobalStats } from "../metrics/mod.ts";
import { maskClientIp } from "../net/mod.ts";
import type { Attempt, AttemptResult } from "../pool/mod.ts";
import { type BodyOutcome, guardResponseBody } from "./body.ts";
import type { RequestContext } from "./context.ts";
import { applySecurityHeaders, clientHeaders, stsRule } from "./headers.ts";
import type { SessionEnd } from "./websocket.ts";
import {
  concatBytes,
  fieldValue,
  headersInit,
  ProxyError,
  type UpstreamResponse,
} from "../core/mod.ts";

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
/** Response bodies of at most this many bytes (by Content-Length) are read whole, then sent. */
export const SMALL_RESPONSE_BYTES = 64 * 1024;

/** The response's declared `Content-Length`, or Infinity. */
function declaredLength(upstream: UpstreamResponse): number {
  return Number(fieldValue(upstream.headers, "content-length") ?? Infinity);
}

const paused = (idleMs: number) =>
  new ProxyError("upstream_timeout", `backend paused more than ${idleMs}ms in its body`);

/**
 * Reads a whole (small) body, giving up when the backend pauses longer than
 * `idleMs` in the middle of it.
 *
 * @throws {ProxyError} upstream_timeout or upstream
 */
async function readWithin(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  watchdog: Watchdog,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  let timedOut = false;
  using watch = watchdog.watch(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      watch.arm(idleMs);
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (e) {
    if (timedOut) throw paused(idleMs);
    throw new ProxyError("upstream", `backend body failed: ${e instanceof Error ? e.message : e}`, {
      cause: e,
    });
  }
  if (timedOut) throw paused(idleMs);
  return chunks.length === 1 ? chunks[0] as Uint8Array<ArrayBuffer> : concatBytes(chunks, total);
}

const MAX_LOGGED_PATH = 1024;

/** What the responder needs. */
export interface ResponderOptions {
  /** The listener's name, on every access-log line. */
  readonly listener: string;
  /** The listener's `write_timeout`: longest wait for a client to take response data. */
  readonly writeTimeoutMs: number;
  readonly logger: Logger;
  readonly watchdog: Watchdog;
  readonly clock: Clock;
  readonly stats: GlobalStats;
  /** Request durations by backend and status class; none kept when absent. */
  readonly durations?: DurationHistograms;
  /**
   * The listener's `Strict-Transport-Security` value (`security.hsts`), sent
   * on every response to a request that came over TLS; absent, a backend's
   * own passes through.
   */
  readonly hsts?: string;
}

/** Finishes responses. */
export interface Responder {
  /** Finishes a response Aegis wrote itself. */
  local(ctx: RequestContext, res: Response): Response;
  /**
   * Finishes a backend response: shaped headers, guarded body, one log line.
   * Takes the attempt over: it ends before `relay` settles, or, for a body
   * that streams, when that body ends. Throwing ends it as a failure.
   *
   * @throws {RangeError} for a status the platform refuses to relay
   * @throws {ProxyError} when a small body could not be read whole
   */
  relay(ctx: RequestContext, upstream: UpstreamResponse, attempt: Attempt): Promise<Response>;
  /**
   * Finishes the `101` that upgraded the client to a WebSocket session: its
   * one access-log line is written when the session has `ended`, with its
   * bytes each way and how it closed.
   */
  upgraded(ctx: RequestContext, res: Response, ended: Promise<SessionEnd>): Response;
}

/** What the access-log line of a WebSocket session adds. */
interface SessionLog {
  readonly bytes_to_backend: number;
  readonly bytes_to_client: number;
  readonly close_code: number;
  readonly closed_by: SessionEnd["by"];
}

/** Lets go of a backend body nobody will read. */
export function discardBody(upstream: UpstreamResponse): void {
  if (upstream.body instanceof ReadableStream) upstream.body.cancel().catch(() => {});
}

/** The chosen pool's `upstream.read_timeout`; a response is relayed only once a pool was chosen. */
function readTimeoutOf(ctx: RequestContext): number {
  if (!ctx.upstream) throw new Error("a backend response without a pool");
  return ctx.upstream.readTimeoutMs;
}

/** Builds the responder. */
export function createResponder(options: ResponderOptions): Responder {
  const { listener, writeTimeoutMs, logger, watchdog, clock, stats, durations, hsts } = options;
  // Both rules built once: the request path only picks one by the client's scheme.
  const stsOverTls = stsRule("https", hsts);
  const stsOverPlain = stsRule("http", hsts);
  const sts = (ctx: RequestContext) => ctx.client.proto === "https" ? stsOverTls : stsOverPlain;

  const accessLog = (
    ctx: RequestContext,
    status: number,
    bytes: number,
    outcome: BodyOutcome | undefined,
    session?: SessionLog,
  ) => {
    stats.recordResponse(status);
    stats.bytesOut += bytes;
    const ms = clock.now() - ctx.started;
    ctx.span.end({
      status,
      pool: ctx.upstream?.name,
      backend: ctx.backend?.id,
      reason: ctx.reason,
      outcome: outcome && outcome !== "complete" ? outcome : undefined,
    });
    durations?.record(
      { listener, pool: ctx.upstream?.name ?? "-", backend: ctx.backend?.id ?? "-" },
      status,
      ms / 1000,
    );
    if (!logger.enabled("info")) return;
    // [SECURITY] Secrets and privacy in logs: the path without its query (queries
    // carry tokens), cut at MAX_LOGGED_PATH so one request cannot flood the log,
    // and the client address masked.
    logger.info("request", {
      request_id: ctx.requestId,
      ...(ctx.span.traceId ? { trace_id: ctx.span.traceId } : {}),
      method: ctx.request.method,
      path: ctx.target.path.length > MAX_LOGGED_PATH
        ? ctx.target.path.slice(0, MAX_LOGGED_PATH) + "…"
        : ctx.target.path,
      status,
      bytes,
      duration_ms: Math.round(ms * 100) / 100,
      backend: ctx.backend?.id ?? "-",
      listener,
      pool: ctx.upstream?.name ?? "-",
      client: maskClientIp(ctx.client.ip),
      ...(ctx.reason ? { reason: ctx.reason } : {}),
      ...(outcome && outcome !== "complete" ? { outcome } : {}),
      ...session,
    });
  };

  return {
    local(ctx, res) {
      // [SECURITY] Clickjacking and sniffing: Aegis's own answers carry the same
      // security headers as relayed ones.
      applySecurityHeaders(res.headers, ctx.requestId, sts(ctx));
      // [SECURITY] Resource exhaustion: a body nobody read is abandoned, and so is
      // the connection that carries it: draining megabytes just to reuse a socket is
      // the client's cost to bear, and an unread body would pin the connection open.
      const body = ctx.request.body;
      if (body && !ctx.request.bodyUsed && !body.locked) {
        body.cancel().catch(() => {});
        res.headers.set("connection", "close");
      }
      // What goes on the wire: the body's length (`jsonResponse` sets it),
      // nothing for HEAD (RFC 9110 §9.3.2) or a status that has no body.
      const sent = ctx.request.method === "HEAD" || NULL_BODY_STATUS.has(res.status)
        ? 0
        : Number(res.headers.get("content-length") ?? 0);
      accessLog(ctx, res.status, sent, undefined);
      return res;
    },

    upgraded(ctx, res, ended) {
      applySecurityHeaders(res.headers, ctx.requestId, sts(ctx));
      ended.then((end) =>
        accessLog(ctx, 101, end.bytesToClient, undefined, {
          bytes_to_backend: end.bytesToBackend,
          bytes_to_client: end.bytesToClient,
          close_code: end.code,
          closed_by: end.by,
        })
      );
      return res;
    },

    async relay(ctx, upstream, taken) {
      using attempt = taken;
      // Until a response is built, what throws is the backend's answer being
      // unusable: a status the platform refuses, a small body cut short.
      attempt.verdict = "failure";
      // [SECURITY] Header injection from the backend side: hop-by-hop fields and
      // `X-Powered-By` dropped, security headers set over the backend's (layers 3, 4).
      const headers = clientHeaders(
        upstream.headers,
        ctx.requestId,
        sts(ctx),
      );
      const init = {
        status: upstream.status,
        statusText: upstream.statusText,
        headers: headersInit(headers),
      };
      const bodiless = upstream.body === null || ctx.request.method === "HEAD" ||
        NULL_BODY_STATUS.has(upstream.status);
      if (bodiless) {
        const res = new Response(null, init);
        discardBody(upstream);
        attempt.end(resultOf(upstream.status, undefined));
        accessLog(ctx, upstream.status, 0, undefined);
        return res;
      }
      const stream = upstream.body instanceof Uint8Array ? undefined : upstream.body;
      let bytes = stream ? undefined : upstream.body as Uint8Array<ArrayBuffer>;
      // [SECURITY] Memory exhaustion: read whole only when the backend declared it
      // small; an undeclared or large body streams, so no backend makes Aegis buffer it.
      if (stream && declaredLength(upstream) <= SMALL_RESPONSE_BYTES) {
        // Small bodies are read whole and sent as bytes: the runtime writes a
        // byte body in one step, far cheaper than pumping a stream, and the
        // socket buffer absorbs it, so a slow reader holds nothing. A body
        // cut short throws (the attempt ends as a failure) and is answered
        // 502 by the caller, before the client saw anything.
        bytes = await readWithin(stream, readTimeoutOf(ctx), watchdog);
      }
      if (bytes) {
        // Built before the attempt ends: a status the platform refuses throws here.
        const res = new Response(bytes, init);
        attempt.state.stats.bytesIn += bytes.byteLength;
        attempt.end(resultOf(upstream.status, undefined));
        accessLog(ctx, upstream.status, bytes.byteLength, undefined);
        return res;
      }
      const body = guardResponseBody(stream!, {
        writeIdleMs: writeTimeoutMs,
        readIdleMs: readTimeoutOf(ctx),
        watchdog,
        onEnd: (outcome, bytes, error) => {
          streamed.state.stats.bytesIn += bytes;
          streamed.end(resultOf(upstream.status, outcome));
          if (outcome === "upstream_error" || outcome === "upstream_timeout") {
            logger.warn("backend response body failed", {
              request_id: ctx.requestId,
              backend: streamed.state.id,
              outcome,
              error: error instanceof Error ? error.message : String(error),
            });
          }
          accessLog(ctx, upstream.status, bytes, outcome);
        },
      });
      const res = new Response(body, init);
      // The body owns the try from here and ends it when it ends, long after
      // relay returned. `onEnd` cannot run before this line: the body is
      // neither read nor cancelled nor timed until the caller has the response.
      const streamed = attempt.move();
      return res;
    },
  };
}

/** The verdict on a backend response once its body has ended. */
function resultOf(status: number, outcome: BodyOutcome | undefined): AttemptResult {
  if (status >= 500 || outcome === "upstream_error" || outcome === "upstream_timeout") {
    return "failure";
  }
  return "success";
}
