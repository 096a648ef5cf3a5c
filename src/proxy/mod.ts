/**
 * The HTTP request path: validation, routing to a pool, forwarding,
 * response shaping, access log.
 *
 * @module
 */

export { createProxy, type Phase, type ProxyOptions, type RequestContext } from "./handler.ts";
export { rateLimitPhase, validationPhase } from "./phases.ts";
export { httpsLocation, httpsRedirectPhase } from "./redirect.ts";
export { fetchTransport, sendVia } from "./transport.ts";
export { createUpstream, type RouteDecision, type Router, type Upstream } from "./upstream.ts";
export {
  applySecurityHeaders,
  HOP_BY_HOP_REQUEST,
  HOP_BY_HOP_RESPONSE,
  SECURITY_HEADERS,
} from "./headers.ts";
export { compileHostAllowList, pathIsSafe, validateRequest } from "./validate.ts";
export { splitTarget } from "./target.ts";
export { isMalformedFraming } from "./body.ts";
export { SessionRegistry, wantsWebSocket } from "./websocket.ts";
export {
  MAX_PENDING_BYTES,
  type WebSocketLeg,
  webSocketLeg,
  type WebSocketSettings,
} from "./websocket_front.ts";
