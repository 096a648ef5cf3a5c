/**
 * The request path: validation, forwarding, response shaping, access log.
 *
 * @module
 */

export {
  type ClientInfo,
  createProxy,
  type Phase,
  type ProxyHandler,
  type ProxyOptions,
  rateLimitPhase,
  type RequestContext,
  validationPhase,
} from "./handler.ts";
export {
  byScheme,
  type ClosableTransport,
  fetchTransport,
  isIdempotent,
  type Payload,
  type Send,
  sendVia,
  type Transport,
  type UpstreamRequest,
  type UpstreamResponse,
} from "./transport.ts";
export {
  type ErrorKind,
  errorResponse,
  isLocalResourceError,
  jsonResponse,
  localResourceError,
  ProxyError,
} from "./errors.ts";
export {
  applySecurityHeaders,
  type HeaderFields,
  type HeaderList,
  HOP_BY_HOP_REQUEST,
  HOP_BY_HOP_RESPONSE,
  SECURITY_HEADERS,
} from "./headers.ts";
export { compileHostAllowList, pathIsSafe, validateRequest } from "./validate.ts";
export { splitTarget } from "./target.ts";
export { isMalformedFraming } from "./body.ts";
