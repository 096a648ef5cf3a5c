/**
 * The proxy as one fetch-shaped function: `(Request, ClientInfo) →
 * Promise<Response>`. A request runs through an ordered list of phases
 * (validate → pick a backend); any phase may answer it. What passes is
 * forwarded, the response is shaped (security headers, hop-by-hop removal)
 * and exactly one access-log line is written when its body ends.
 *
 * Nothing here touches a socket, so tests can call it with `new Request()`.
 *
 * @module
 */

import { type Clock, systemClock, type Watchdog } from "../clock/mod.ts";
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { maskClientIp } from "../net/mod.ts";
import type { Backend, Pool } from "../pool/mod.ts";
import { type BodyOutcome, guardResponseBody } from "./body.ts";
import { asProxyError, errorResponse, jsonResponse, ProxyError } from "./errors.ts";
import { forward, type ForwardOptions } from "./forward.ts";
import { applySecurityHeaders, clientHeaders, requestIdFrom } from "./headers.ts";
import { type RequestTarget, splitTarget } from "./target.ts";
import type { Transport } from "./transport.ts";
import { compileHostAllowList, validateRequest, type ValidationRules } from "./validate.ts";

/** Who is on the other end of the client connection. */
export interface ClientInfo {
  /** The socket peer address: the only source of client identity. */
  readonly ip: string;
  /** The socket peer port. */
  readonly port: number;
  /** How the client reached Aegis. */
  readonly proto: "http" | "https";
}

/** The proxy: answers one request. Never throws. */
export type ProxyHandler = (request: Request, client: ClientInfo) => Promise<Response>;

/** What the proxy is built from. */
export interface ProxyOptions {
  /** The running configuration. */
  readonly config: Config;
  /** The backends and the balancing policy. */
  readonly pool: Pool;
  /** Sends upstream requests. */
  readonly transport: Transport;
  /** Access and error logs. */
  readonly logger: Logger;
  /** Expires timeouts. */
  readonly watchdog: Watchdog;
  /** Measures durations; the system clock by default. */
  readonly clock?: Clock;
}

/** Per-request state shared by the phases. */
export interface RequestContext {
  /** The client's request. */
  readonly request: Request;
  /** The client connection. */
  readonly client: ClientInfo;
  /** The raw request target. */
  readonly target: RequestTarget;
  /** Propagated or generated `X-Request-ID`. */
  readonly requestId: string;
  /** When handling began, on the proxy clock. */
  readonly started: number;
  /** The chosen backend, once picked. */
  backend?: Backend;
  /** Why the request was refused or failed, for the access log. */
  reason?: string;
}

/** A step of the request path: answers the request, or lets it continue. */
export type Phase = (ctx: RequestContext) => Response | undefined | Promise<Response | undefined>;

/** Rejects requests that break a validation rule. */
export function validationPhase(rules: ValidationRules): Phase {
  return (ctx) => {
    const rejection = validateRequest(ctx.request, ctx.target, rules);
    if (!rejection) return undefined;
    ctx.reason = rejection.reason;
    return jsonResponse(rejection.status, { error: rejection.error }, rejection.headers);
  };
}

/** Chooses the backend, or answers 503 when none may take traffic. */
export function pickPhase(pool: Pool, retryAfterSeconds: number): Phase {
  return (ctx) => {
    ctx.backend = pool.pick({ clientIp: ctx.client.ip, request: ctx.request });
    if (ctx.backend) return undefined;
    ctx.reason = "no_backend";
    return errorResponse(new ProxyError("no_backend", "no eligible backend"), retryAfterSeconds);
  };
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const MAX_LOGGED_PATH = 1024;

/**
 * Builds the proxy handler from the configuration.
 *
 * @example
 * ```ts
 * const proxy = createProxy({ config, pool, transport, logger, watchdog });
 * const res = await proxy(new Request("http://example.com/"), { ip: "203.0.113.9", port: 5000, proto: "http" });
 * ```
 */
export function createProxy(options: ProxyOptions): ProxyHandler {
  const { config, pool, logger, watchdog } = options;
  const clock = options.clock ?? systemClock;
  const rules: ValidationRules = {
    maxBodyBytes: config.server.max_body_bytes,
    maxHeaderBytes: config.server.max_header_bytes,
    allowedMethods: new Set(config.security.allowed_methods),
    hostAllowed: compileHostAllowList(config.security.allowed_hosts),
  };
  const phases: readonly Phase[] = [
    validationPhase(rules),
    pickPhase(pool, Math.max(1, Math.ceil(config.health_check.interval / 1000))),
  ];
  const forwardOptions: ForwardOptions = {
    transport: options.transport,
    watchdog,
    responseHeaderTimeoutMs: config.upstream.response_header_timeout,
    bodyIdleMs: config.server.read_timeout,
    maxBodyBytes: config.server.max_body_bytes,
    preserveHost: config.upstream.preserve_host,
  };

  const accessLog = (
    ctx: RequestContext,
    status: number,
    bytes: number,
    outcome: BodyOutcome | undefined,
  ) => {
    if (!logger.enabled("info")) return;
    logger.info("request", {
      request_id: ctx.requestId,
      method: ctx.request.method,
      path: ctx.target.path.length > MAX_LOGGED_PATH
        ? ctx.target.path.slice(0, MAX_LOGGED_PATH) + "…"
        : ctx.target.path,
      status,
      bytes,
      duration_ms: Math.round((clock.now() - ctx.started) * 100) / 100,
      backend: ctx.backend?.id ?? "-",
      client: maskClientIp(ctx.client.ip),
      ...(ctx.reason ? { reason: ctx.reason } : {}),
      ...(outcome && outcome !== "complete" ? { outcome } : {}),
    });
  };

  /** Finishes a response Aegis wrote itself. */
  const local = (ctx: RequestContext, res: Response): Response => {
    applySecurityHeaders(res.headers, ctx.requestId);
    // A body nobody read is abandoned, and so is the connection that carries
    // it: draining megabytes just to reuse a socket is the client's cost to
    // bear, not Aegis's, and an unread body would pin the connection open.
    const body = ctx.request.body;
    if (body && !ctx.request.bodyUsed && !body.locked) {
      body.cancel().catch(() => {});
      res.headers.set("connection", "close");
    }
    const length = Number(res.headers.get("content-length") ?? 0);
    accessLog(ctx, res.status, length, undefined);
    return res;
  };

  /** Finishes a backend response: shaped headers, guarded body, one log line. */
  const relay = (ctx: RequestContext, upstream: Response): Response => {
    const headers = clientHeaders(upstream.headers, ctx.requestId);
    const init = { status: upstream.status, statusText: upstream.statusText, headers };
    const bodiless = upstream.body === null || ctx.request.method === "HEAD" ||
      NULL_BODY_STATUS.has(upstream.status);
    if (bodiless) {
      upstream.body?.cancel().catch(() => {});
      accessLog(ctx, upstream.status, 0, undefined);
      return new Response(null, init);
    }
    const body = guardResponseBody(upstream.body, {
      writeIdleMs: config.server.write_timeout,
      readIdleMs: config.upstream.read_timeout,
      watchdog,
      onEnd: (outcome, bytes, error) => {
        if (outcome === "upstream_error" || outcome === "upstream_timeout") {
          logger.warn("backend response body failed", {
            request_id: ctx.requestId,
            backend: ctx.backend?.id,
            outcome,
            error: error instanceof Error ? error.message : String(error),
          });
        }
        accessLog(ctx, upstream.status, bytes, outcome);
      },
    });
    return new Response(body, init);
  };

  const handle = async (ctx: RequestContext): Promise<Response> => {
    for (const phase of phases) {
      const answer = await phase(ctx);
      if (answer) return local(ctx, answer);
    }
    const backend = ctx.backend!;
    let upstream: Response;
    try {
      upstream = await forward(
        {
          request: ctx.request,
          target: ctx.target,
          clientIp: ctx.client.ip,
          requestId: ctx.requestId,
          proto: ctx.client.proto,
        },
        backend,
        forwardOptions,
      );
    } catch (e) {
      const error = asProxyError(e);
      ctx.reason = error.kind;
      if (error.source === "upstream") {
        logger.warn("backend request failed", {
          request_id: ctx.requestId,
          backend: backend.id,
          kind: error.kind,
          error: error.message,
        });
      }
      return local(ctx, errorResponse(error));
    }
    try {
      return relay(ctx, upstream);
    } catch (e) {
      // A status the platform refuses to relay (for example 1xx): the backend broke HTTP.
      upstream.body?.cancel().catch(() => {});
      ctx.reason = "upstream";
      logger.warn("backend response unusable", {
        request_id: ctx.requestId,
        backend: backend.id,
        error: e instanceof Error ? e.message : String(e),
      });
      return local(ctx, errorResponse(new ProxyError("upstream", "unusable response")));
    }
  };

  return async (request, client) => {
    const ctx: RequestContext = {
      request,
      client,
      target: splitTarget(request.url),
      requestId: requestIdFrom(request.headers),
      started: clock.now(),
    };
    try {
      return await handle(ctx);
    } catch (e) {
      logger.error("internal error", { request_id: ctx.requestId, error: asProxyError(e).message });
      ctx.reason = "internal";
      return local(ctx, errorResponse(new ProxyError("internal", "unexpected failure")));
    }
  };
}
