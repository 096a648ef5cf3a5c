/**
 * The proxy as one fetch-shaped function: `(Request, ClientInfo) →
 * Promise<Response>`. A request runs through an ordered list of phases
 * (validate, then whatever a deployment adds); any phase may answer it.
 * What passes is sent to a backend picked by the pool, and retried on
 * another one when the first could not be reached and it is safe to send
 * the request again. The response is shaped and logged by the responder.
 *
 * Nothing here touches a socket, so tests can call it with `new Request()`.
 *
 * @module
 */

import { type Clock, systemClock, type Watchdog } from "../clock/mod.ts";
import type { Config } from "../config/mod.ts";
import type { RateLimiter } from "../limit/mod.ts";
import type { Logger } from "../log/mod.ts";
import { type DurationHistograms, GlobalStats } from "../metrics/mod.ts";
import type { BackendState, Pool } from "../pool/mod.ts";
import { type Attempt, beginAttempt } from "./attempt.ts";
import { prepareBody, type PreparedBody } from "./body.ts";
import type { Phase, RequestContext } from "./context.ts";
import { forward, type ForwardOptions } from "./forward.ts";
import { requestIdFrom } from "./headers.ts";
import { createResponder, discardBody } from "./respond.ts";
import { splitTarget } from "./target.ts";
import { compileHostAllowList, validateRequest, type ValidationRules } from "./validate.ts";
import {
  asProxyError,
  type ErrorKind,
  errorResponse,
  fieldList,
  isIdempotent,
  jsonResponse,
  ProxyError,
  type ProxyHandler,
  type Send,
  type UpstreamResponse,
} from "../core/mod.ts";

export type { Phase, RequestContext } from "./context.ts";

/** What the proxy is built from. */
export interface ProxyOptions {
  /** The running configuration. */
  readonly config: Config;
  /** The backends and the balancing policy. */
  readonly pool: Pool;
  /** Sends upstream requests (a transport's `send`, or `sendVia(fetchShaped)`). */
  readonly send: Send;
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
}

/**
 * Failures that are the client breaking a rule, found only once the body is
 * read: counted with the validation rejects, under the kind's name (a body
 * that grows past `max_body_bytes` counts as `body_too_large`, like one that
 * declared too much).
 */
const REJECTED_KINDS: ReadonlySet<ErrorKind> = new Set(["malformed_body", "body_too_large"]);

/** Rejects requests that break a validation rule. */
export function validationPhase(rules: ValidationRules, stats?: GlobalStats): Phase {
  return (ctx) => {
    const rejection = validateRequest(ctx.request, ctx.target, rules, {
      fields: ctx.fields,
      listenerPort: ctx.client.listenerPort,
    });
    if (!rejection) return undefined;
    ctx.reason = rejection.reason;
    stats?.recordReject(rejection.reason);
    return jsonResponse(rejection.status, { error: rejection.error }, rejection.headers);
  };
}

/**
 * Per-client rate limiting (seed layer 5): the key is the socket peer,
 * never a header, so `X-Forwarded-For` cannot buy anyone a fresh bucket.
 * Over the limit: `429` with the seconds until a token is available.
 */
export function rateLimitPhase(limiter: RateLimiter, stats?: GlobalStats): Phase {
  return (ctx) => {
    const decision = limiter.check(ctx.client.ip);
    if (decision.allowed) return undefined;
    ctx.reason = "rate_limited";
    if (stats) stats.rateLimited++;
    return jsonResponse(429, { error: "too many requests" }, {
      "retry-after": String(decision.retryAfterSeconds),
    });
  };
}

/**
 * Builds the proxy handler from the configuration.
 *
 * @example
 * ```ts
 * const proxy = createProxy({ config, pool, send: transport.send, logger, watchdog });
 * const client = { ip: "203.0.113.9", port: 5000, proto: "http", listenerPort: 8080 } as const;
 * const res = await proxy(new Request("http://example.com/"), client);
 * ```
 */
export function createProxy(options: ProxyOptions): ProxyHandler {
  const { config, pool, logger, watchdog } = options;
  const clock = options.clock ?? systemClock;
  const stats = options.stats ?? new GlobalStats();
  const rules: ValidationRules = {
    maxBodyBytes: config.server.max_body_bytes,
    maxHeaderBytes: config.server.max_header_bytes,
    allowedMethods: new Set(config.security.allowed_methods),
    hostAllowed: compileHostAllowList(config.security.allowed_hosts),
  };
  const phases: readonly Phase[] = [validationPhase(rules, stats), ...(options.phases ?? [])];
  const forwardOptions: ForwardOptions = {
    send: options.send,
    watchdog,
    responseHeaderTimeoutMs: config.upstream.response_header_timeout,
    bodyIdleMs: config.server.read_timeout,
    maxBodyBytes: config.server.max_body_bytes,
    preserveHost: config.upstream.preserve_host,
  };
  const bodyLimits = {
    maxBytes: config.server.max_body_bytes,
    idleMs: config.server.read_timeout,
    watchdog,
  };
  const retries = config.retries.attempts;
  const retryAfterSeconds = Math.max(1, Math.ceil(config.health_check.interval / 1000));
  const { local, relay } = createResponder({
    config,
    logger,
    watchdog,
    clock,
    stats,
    durations: options.durations,
  });

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
          target: ctx.target,
          clientIp: ctx.client.ip,
          requestId: ctx.requestId,
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
      const answer = await phase(ctx);
      if (answer) return local(ctx, answer);
    }
    // A small body is read once, so that a second backend can be sent it too.
    let body: PreparedBody;
    try {
      body = await prepareBody(ctx.request, bodyLimits);
    } catch (e) {
      return fail(ctx, asProxyError(e));
    }
    const mayRetry = body.replayable && isIdempotent(ctx.request.method);
    const pickCtx = { clientIp: ctx.client.ip, request: ctx.request };
    const tried = new Set<string>();
    let failed: ProxyError | undefined;

    for (let retry = 0;;) {
      const state = pool.pick(pickCtx, tried);
      if (!state) {
        if (failed) return fail(ctx, failed);
        ctx.reason = "no_backend";
        return local(
          ctx,
          errorResponse(new ProxyError("no_backend", "no eligible backend"), retryAfterSeconds),
        );
      }
      tried.add(state.id);
      const outcome = await sendTo(ctx, state, body);
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
    const ctx: RequestContext = {
      request,
      fields,
      client,
      target: splitTarget(request.url, request.method),
      requestId: requestIdFrom(fields),
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
