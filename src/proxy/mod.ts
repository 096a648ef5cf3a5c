/**
 * The request path: validation, forwarding, response shaping, access log.
 *
 * @module
 */

export {
  createProxy,
  type Phase,
  type ProxyOptions,
  rateLimitPhase,
  type RequestContext,
  validationPhase,
} from "./handler.ts";
export { byScheme, fetchTransport, sendVia } from "./transport.ts";
export {
  applySecurityHeaders,
  HOP_BY_HOP_REQUEST,
  HOP_BY_HOP_RESPONSE,
  SECURITY_HEADERS,
} from "./headers.ts";
export { compileHostAllowList, pathIsSafe, validateRequest } from "./validate.ts";
export { splitTarget } from "./target.ts";
export { isMalformedFraming } from "./body.ts";
