/**
 * The WebSocket leg of the request path: a request that asks to become a
 * WebSocket (`wantsWebSocket`) has passed validation, the rate limiter and
 * routing like any other; here its handshake is checked (RFC 6455 and the
 * listener's Origin allow-list), the listener's session caps are applied,
 * a backend is picked through the pool and its breaker, the backend's side
 * is opened, and only then is the client upgraded with the backend's
 * chosen subprotocol and the two joined (`websocket.ts`).
 *
 * Breaker verdicts: a backend that cannot be reached (connection refused,
 * reset, no handshake answer in `upstream.response_header_timeout`) fails
 * the attempt and is retried on another backend as a GET without a body
 * may be; a backend that answers the handshake with a status other than
 * `101` refused cleanly, which says nothing against its health: the client
 * gets that status and the breaker is not told. The attempt ends at the
 * handshake: a session that lasts hours holds no breaker permit.
 *
 * @module
 */

import type { Watchdog } from "../clock/mod.ts";
import type { ListenerConfig } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { WebSocketStats } from "../metrics/mod.ts";
import { beginAttempt } from "../pool/mod.ts";
import type { RequestContext } from "./context.ts";
import { upstreamHeaders } from "./headers.ts";
import type { Responder } from "./respond.ts";
import type { RequestTarget } from "./target.ts";
import type { Upstream } from "./upstream.ts";
import {
  backendHandshakeHeaders,
  type BackendSocket,
  backendUrl,
  checkHandshake,
  connectBackend,
  offeredProtocols,
  relayWebSocket,
  SessionRegistry,
} from "./websocket.ts";
import {
  asProxyError,
  errorResponse,
  jsonResponse,
  markUpgraded,
  ProxyError,
} from "../core/mod.ts";

/** A listener's `websocket` settings. */
export type WebSocketSettings = NonNullable<ListenerConfig["websocket"]>;

/** Most bytes of client messages Aegis holds for a backend slower than its client. */
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;

/** What the WebSocket leg needs from its listener. */
export interface WebSocketFrontOptions {
  readonly settings: WebSocketSettings;
  /** The listener's sessions: caps and drain (kept across reloads). */
  readonly registry: SessionRegistry;
  /** Who counts as one client for `max_connections_per_client`. */
  readonly clientKey: (ip: string) => string;
  /** Process-wide session and byte counters. */
  readonly stats: WebSocketStats;
  readonly listener: string;
  readonly logger: Logger;
  readonly watchdog: Watchdog;
}

/** Answers one WebSocket request once routing chose `upstream`. */
export type WebSocketLeg = (
  ctx: RequestContext,
  upstream: Upstream,
  target: RequestTarget,
  responder: Responder,
) => Promise<Response>;

/**
 * Builds a listener's WebSocket leg.
 *
 * @example
 * ```ts
 * const leg = webSocketLeg({ settings: listener.websocket, registry, clientKey, stats, listener: "web", logger, watchdog });
 * if (wantsWebSocket(ctx.fields)) return leg(ctx, chosen, target, responder);
 * ```
 */
export function webSocketLeg(options: WebSocketFrontOptions): WebSocketLeg {
  const { settings, registry, stats, logger, watchdog } = options;
  const origins = new Set(settings.allowed_origins);

  return async (ctx, upstream, target, { local, upgraded }) => {
    const refusal = checkHandshake(ctx.request.method, ctx.fields, origins);
    if (refusal) {
      ctx.reason = refusal.reason;
      return local(
        ctx,
        jsonResponse(refusal.status, {
          error: refusal.status === 403 ? "origin not allowed" : "bad websocket handshake",
        }, refusal.headers),
      );
    }
    // [SECURITY] Resource exhaustion: the listener's and the client's session caps.
    const permit = registry.admit(options.clientKey(ctx.client.ip));
    if (typeof permit === "string") {
      ctx.reason = `websocket_${permit}`;
      return local(ctx, jsonResponse(503, { error: "too many websocket connections" }));
    }
    let backend: BackendSocket;
    try {
      backend = await openBackend(ctx, upstream, target);
    } catch (e) {
      permit[Symbol.dispose]();
      const error = asProxyError(e);
      ctx.reason = error.kind;
      const status = (e as { status?: number }).status;
      if (status !== undefined) {
        return local(ctx, jsonResponse(status, { error: "websocket upgrade refused by backend" }));
      }
      return local(ctx, errorResponse(error, upstream.retryAfterSeconds));
    }
    let upgrade: { socket: WebSocket; response: Response };
    try {
      upgrade = Deno.upgradeWebSocket(ctx.request, {
        ...(backend.protocol ? { protocol: backend.protocol } : {}),
      });
    } catch {
      // The runtime cannot upgrade this request (an HTTP/2 stream carrying
      // upgrade headers): the backend's side is let go.
      backend.stream.close();
      permit[Symbol.dispose]();
      ctx.reason = "websocket_not_upgradable";
      return local(ctx, jsonResponse(400, { error: "bad websocket handshake" }));
    }
    const { socket, response } = upgrade;
    const pool = upstream.name;
    const closed = stats.opened(options.listener, pool);
    const session = relayWebSocket(socket, backend, {
      watch: (onExpire) => watchdog.watch(onExpire),
      idleTimeoutMs: settings.idle_timeout,
      maxPendingBytes: MAX_PENDING_BYTES,
      onBytes: (toBackend, toClient) => stats.bytes(pool, toBackend, toClient),
    });
    permit.track(session);
    const ended = session.ended.finally(() => {
      closed();
      permit[Symbol.dispose]();
    });
    return markUpgraded(upgraded(ctx, response, ended), {
      ended,
      close: (code, reason) => session.close(code, reason),
    });
  };

  /**
   * Opens the backend's side on a backend the pool picks, retrying another
   * one when a backend cannot be reached.
   *
   * @throws {ProxyError} the last failure; with `status` for a backend's clean refusal
   */
  async function openBackend(
    ctx: RequestContext,
    upstream: Upstream,
    target: RequestTarget,
  ): Promise<BackendSocket> {
    const tried = new Set<string>();
    const pickCtx = { clientIp: ctx.client.ip, request: ctx.request };
    let failed: ProxyError | undefined;
    for (let retry = 0;;) {
      const state = upstream.pool.pick(pickCtx, tried);
      if (!state) throw failed ?? new ProxyError("no_backend", "no eligible backend");
      tried.add(state.id);
      using attempt = beginAttempt(state);
      if (!attempt) continue;
      ctx.backend = state.backend;
      const headers = backendHandshakeHeaders(upstreamHeaders(ctx.fields, {
        clientIp: ctx.client.ip,
        requestId: ctx.requestId,
        trace: ctx.span.propagate,
        proto: ctx.client.proto,
        host: target.authority,
        preserveHost: upstream.preserveHost,
      }));
      const abort = new AbortController();
      // [SECURITY] Resource exhaustion: a backend that never answers the
      // handshake holds the request for upstream.response_header_timeout at most.
      using watch = watchdog.watch(() => abort.abort());
      watch.arm(upstream.responseHeaderTimeoutMs);
      try {
        const backend = await connectBackend(
          backendUrl(state.backend.base, target.path, target.query),
          offeredProtocols(ctx.fields),
          headers,
          abort.signal,
        );
        attempt.end("success");
        return backend;
      } catch (e) {
        const error = asProxyError(e);
        // A clean refusal is the backend's answer, not a failure of it.
        const refused = (e as { status?: number }).status !== undefined;
        attempt.verdict = refused ? "neutral" : "failure";
        if (refused) throw e;
        logger.warn("backend websocket handshake failed", {
          request_id: ctx.requestId,
          backend: state.id,
          kind: error.kind,
          error: error.message,
        });
        if (error.kind !== "connect" || retry >= upstream.retries) throw error;
        retry++;
        failed = error;
        ctx.span.retried(state.id, error.kind);
      }
    }
  }
}
