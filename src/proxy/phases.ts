/**
 * The phases a listener's requests pass before a pool is chosen: request
 * validation, then per-client rate limiting. Each either answers the
 * request (and says why, for the access log and the reject counters) or
 * lets it continue.
 *
 * @module
 */

import type { ClientLimiter } from "../limit/mod.ts";
import type { GlobalStats } from "../metrics/mod.ts";
import type { Phase } from "./context.ts";
import { validateRequest, type ValidationRules } from "./validate.ts";
import { jsonResponse } from "../core/mod.ts";

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
export function rateLimitPhase(limiter: ClientLimiter, stats?: GlobalStats): Phase {
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
