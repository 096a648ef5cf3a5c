/**
 * One listener's proxy as one fetch-shaped function: `(Request, ClientInfo)
 * → Promise<Response>`. A request runs through an ordered list of phases
 * (validate, then whatever a deployment adds: the rate limiter), then the
 * router picks its pool (no route: `404`). It is sent to a backend that
 * pool picks, and retried on another one when the first could not be
 * reached and it is safe to send the request again. The response is
 * shaped and logged by the responder.
 *
 * Nothing here touches a socket, so tests can call it with `new Request()`.
 *
 * @module
 */

import { type Clock, systemClock, type Watchdog } from "../clock/mod.ts";
import type { ListenerConfig } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { DISABLED_TRACER, type RequestTracer } from "../tracing/mod.ts";
import { type DurationHistograms, GlobalStats } from "../metrics/mod.ts";
import { type Attempt, type BackendState, beginAttempt } from "../pool/mod.ts";
import { prepareBody, type PreparedBody } from "./body.ts";
import type { Phase, RequestContext } from "./context.ts";
import { forward, type ForwardOptions } from "./forward.ts";
import { hstsValue, requestIdFrom } from "./headers.ts";
import { createResponder, discardBody } from "./respond.ts";
import { validationPhase } from "./phases.ts";
import { type RequestTarget, splitTarget } from "./target.ts";
import type { Router, Upstream } from "./upstream.ts";
import { compileHostAllowList, type ValidationRules } from "./validate.ts";
import { wantsWebSocket } from "./websocket.ts";
import type { WebSocketLeg } from "./websocket_front.ts";
import {
  asProxyError,
  type ErrorKind,
  errorResponse,
  fieldList,
  isIdempotent,
  ProxyError,
  type ProxyHandler,
  type UpstreamResponse,
} from "../core/mod.ts";

export type { Phase, RequestContext } from "./context.ts";

/** What the proxy is built from. */
export interface ProxyOptions {
  /** The listener's settings: size limits, body timeouts, request filters, its name. */
  readonly listener: ListenerConfig;
  /** Picks each request's pool (and the path to send it); see `createUpstream`. */
  readonly route: Router;
  /** Access and error logs. */
  readonly logger: Logger;
  /** Expires timeouts. */
  readonly watchdog: Watchdog;
  /** Measures durations; the system clock by default. */
  readonly clock?: Clock;
  /** Global counters; a private set by default. */
  readonly stats?: GlobalStats;
  /** Request durations for the `/metrics` histogram; none kept by default. */
  readonly durations?: DurationHistograms;
  /** Phases run after validation, in order (the rate limiter). */
  readonly phases?: readonly Phase[];
  /** The tracer in force when a request starts (it changes on reload); tracing off by default. */
  readonly tracer?: () => RequestTracer;
  /** Relays WebSocket upgrades (`websocket.enabled`); they are plain requests when absent. */
  readonly webSocket?: WebSocketLeg;
}

/**
 * Failures that are the client breaking a rule, found only once the body is
 * read: counted with the validation rejects, under the kind's name (a body
 * that grows past `max_body_bytes` counts as `body_too_large`, like one that
 * declared too much).
 */
const REJECTED_KINDS: ReadonlySet<ErrorKind> = new Set(["malformed_body", "body_too_large"]);

/** A request without a body: nothing to read, and nothing stops a retry. */
const NO_BODY: PreparedBody = Object.freeze({ replayable: true, payload: undefined });

/**
 * Builds a listener's proxy handler.
 *
 * @example
 * ```ts
 * const api = createUpstream("api", config.pools.api, pool, transport.send);
 * const route: Router = (_method, _authority, path) => ({ upstream: api, path });
 * const proxy = createProxy({ listener: config.listeners[0], route, logger, watchdog });
 * const client = { ip: "203.0.113.9", port: 5000, proto: "http", listenerPort: 8080 } as const;
 * const res = await proxy(new Request("http://example.com/"), client);
 * ```
 */
export function createProxy(options: ProxyOptions): ProxyHandler {
  const { listener, route, logger, watchdog } = options;
  const clock = options.clock ?? systemClock;
  const tracer = options.tracer ?? (() => DISABLED_TRACER);
  const stats = options.stats ?? new GlobalStats();
  const rules: ValidationRules = {
    maxBodyBytes: listener.max_body_bytes,
    maxHeaderBytes: listener.max_header_bytes,
    allowedMethods: new Set(listener.security.allowed_methods),
    hostAllowed: compileHostAllowList(listener.security.allowed_hosts),
  };
  const phases: readonly Phase[] = [validationPhase(rules, stats), ...(options.phases ?? [])];
  const bodyLimits = {
    maxBytes: listener.max_body_bytes,
    idleMs: listener.read_timeout,
    watchdog,
  };
  const responder = createResponder({
    listener: listener.name,
    writeTimeoutMs: listener.write_timeout,
    logger,
    watchdog,
    clock,
    stats,
    durations: options.durations,
    ...(listener.security.hsts ? { hsts: hstsValue(listener.security.hsts) } : {}),
  });
  const { local, relay } = responder;
  const webSocket = options.webSocket;
  /** Each pool's forwarding settings, built on its first request rather than on every one. */
  const forwardOptionsByUpstream = new WeakMap<Upstream, ForwardOptions>();
  const forwardOptionsOf = (chosen: Upstream): ForwardOptions => {
    let options = forwardOptionsByUpstream.get(chosen);
    if (!options) {
      options = {
        send: chosen.send,
        watchdog,
        responseHeaderTimeoutMs: chosen.responseHeaderTimeoutMs,
        bodyIdleMs: listener.read_timeout,
        maxBodyBytes: listener.max_body_bytes,
        preserveHost: chosen.preserveHost,
      };
      forwardOptionsByUpstream.set(chosen, options);
    }
    return options;
  };

  /** Answers a failure: the error's status, its kind as the reason, counted if the client broke a rule. */
  const fail = (ctx: RequestContext, error: ProxyError): Response => {
    ctx.reason = error.kind;
    if (REJECTED_KINDS.has(error.kind)) stats.recordReject(error.kind);
    return local(ctx, errorResponse(error));
  };

  /**
   * Sends the request to `state` as one attempt. Resolves to the backend's
   * response with the attempt, now the caller's to end; to the error that
   * ended the attempt (already ended, so the caller can log and retry in
   * order); or to `undefined` when the breaker refused the attempt.
   */
  const sendTo = async (
    ctx: RequestContext,
    state: BackendState,
    body: PreparedBody,
    forwardOptions: ForwardOptions,
    target: RequestTarget,
  ): Promise<{ upstream: UpstreamResponse; attempt: Attempt } | ProxyError | undefined> => {
    using attempt = beginAttempt(state);
    if (!attempt) return undefined;
    ctx.backend = state.backend;
    const sent = clock.now();
    let upstream: UpstreamResponse;
    try {
      upstream = await forward(
        {
          request: ctx.request,
          fields: ctx.fields,
          target,
          clientIp: ctx.client.ip,
          requestId: ctx.requestId,
          trace: ctx.span.propagate,
          proto: ctx.client.proto,
          body: body.replayable ? body.payload : body.stream,
          onSent: (bytes) => {
            state.stats.bytesOut += bytes;
            stats.bytesIn += bytes;
          },
        },
        state.backend,
        forwardOptions,
      );
    } catch (e) {
      const error = asProxyError(e);
      // The backend's failure counts against it; the client's or Aegis's does not.
      attempt.verdict = error.source === "upstream" ? "failure" : "neutral";
      return error;
    }
    const now = clock.now();
    attempt.headers(now - sent, now);
    return { upstream, attempt: attempt.move() };
  };

  const handle = async (ctx: RequestContext): Promise<Response> => {
    for (const phase of phases) {
      // A phase that answers at once (validation, the limiter) is not awaited:
      // each await is a promise and a turn of the microtask queue per request.
      let answer = phase(ctx);
      if (answer instanceof Promise) answer = await answer;
      if (answer) return local(ctx, answer);
    }
    const decision = route(ctx.request.method, ctx.target.authority, ctx.target.path);
    if (!decision) {
      stats.recordReject("no_route");
      return fail(ctx, new ProxyError("no_route", "no route takes the request"));
    }
    const { upstream: chosen } = decision;
    ctx.upstream = chosen;
    // The route may have stripped its prefix: the backend gets the rest.
    const target = decision.path === ctx.target.path
      ? ctx.target
      : { ...ctx.target, path: decision.path };
    // Only a WebSocket upgrade is relayed as one, on a connection that can
    // carry it; any other Upgrade (h2c) is a plain request below, its
    // Upgrade stripped as hop-by-hop.
    if (webSocket && ctx.client.upgradable && wantsWebSocket(ctx.fields)) {
      return await webSocket(ctx, chosen, target, responder);
    }
    const forwardOptions = forwardOptionsOf(chosen);
    const { pool, retries } = chosen;
    // A small body is read once, so that a second backend can be sent it too.
    let body: PreparedBody = NO_BODY;
    if (ctx.request.body) {
      try {
        body = await prepareBody(ctx.request, bodyLimits);
      } catch (e) {
        return fail(ctx, asProxyError(e));
      }
    }
    const mayRetry = body.replayable && isIdempotent(ctx.request.method);
    const pickCtx = { clientIp: ctx.client.ip, request: ctx.request };
    // Backends already tried: made only when the first one fails.
    let tried: Set<string> | undefined;
    let failed: ProxyError | undefined;

    for (let retry = 0;;) {
      const state = pool.pick(pickCtx, tried);
      if (!state) {
        if (failed) return fail(ctx, failed);
        ctx.reason = "no_backend";
        return local(
          ctx,
          errorResponse(
            new ProxyError("no_backend", "no eligible backend"),
            chosen.retryAfterSeconds,
          ),
        );
      }
      (tried ??= new Set()).add(state.id);
      const outcome = await sendTo(ctx, state, body, forwardOptions, target);
      if (!outcome) continue; // its last half-open probe slot went to another request just now
      if (outcome instanceof ProxyError) {
        const error = outcome;
        if (error.source === "upstream") {
          logger.warn("backend request failed", {
            request_id: ctx.requestId,
            backend: state.id,
            kind: error.kind,
            error: error.message,
          });
        }
        // Only failures before any response byte, and never a header timeout:
        // a backend that is slow to answer may still be working on it.
        const again = (error.kind === "connect" || error.kind === "upstream") && mayRetry &&
          retry < retries;
        if (!again) return fail(ctx, error);
        retry++;
        failed = error;
        ctx.span.retried(state.id, error.kind);
        logger.info("retrying on another backend", { request_id: ctx.requestId, failed: state.id });
        continue;
      }
      // Held here only until relay takes it over; relay ends it, or hands it to the body.
      using attempt = outcome.attempt;
      const { upstream } = outcome;
      try {
        return await relay(ctx, upstream, attempt.move());
      } catch (e) {
        // relay ended the attempt as a failure on its way out.
        if (e instanceof ProxyError) {
          ctx.reason = e.kind;
          logger.warn("backend response body failed", {
            request_id: ctx.requestId,
            backend: state.id,
            kind: e.kind,
            error: e.message,
          });
          return local(ctx, errorResponse(e));
        }
        // A status the platform refuses to relay (for example 1xx): the backend broke HTTP.
        discardBody(upstream);
        ctx.reason = "upstream";
        logger.warn("backend response unusable", {
          request_id: ctx.requestId,
          backend: state.id,
          error: e instanceof Error ? e.message : String(e),
        });
        return local(ctx, errorResponse(new ProxyError("upstream", "unusable response")));
      }
    }
  };

  return async (request, client) => {
    stats.requests++;
    const fields = fieldList(request.headers);
    const target = splitTarget(request.url, request.method);
    const requestId = requestIdFrom(fields);
    const ctx: RequestContext = {
      request,
      fields,
      client,
      target,
      requestId,
      started: clock.now(),
      span: tracer().start({
        fields,
        method: request.method,
        path: target.path,
        scheme: client.proto,
        authority: target.authority,
        clientIp: client.ip,
        port: client.listenerPort,
        listener: listener.name,
        requestId,
      }),
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
