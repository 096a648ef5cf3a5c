/**
 * The request-path contract every layer above builds on: the upstream
 * transport interface, upstream request and response, the one error type of
 * the request path and its answers, header lists, client info and the
 * handler type. Depends on nothing else in Aegis.
 *
 * @module
 */

export { concatBytes } from "./bytes.ts";
export { type ClientInfo, type ProxyHandler } from "./client.ts";
export {
  asProxyError,
  type ErrorKind,
  errorResponse,
  type ErrorSource,
  isLocalResourceError,
  jsonResponse,
  localResourceError,
  ProxyError,
} from "./errors.ts";
export {
  fieldList,
  fieldValue,
  type HeaderFields,
  type HeaderList,
  headersInit,
} from "./fields.ts";
export {
  type ClosableTransport,
  isIdempotent,
  type Payload,
  type Send,
  type Transport,
  type UpstreamRequest,
  type UpstreamResponse,
} from "./transport.ts";
export { markUpgraded, type UpgradedSession, upgradedSession } from "./upgrade.ts";
