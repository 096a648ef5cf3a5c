/**
 * The public listeners (HTTP and TCP): accept, connection limits and
 * timeouts, graceful drain.
 *
 * @module
 */

export {
  clientFromAddr,
  DRAIN_IDLE_GRACE_MS,
  type Server,
  type ServerOptions,
  startServer,
} from "./server.ts";
export { type CloseReason, ConnectionState, type ConnectionTimeouts } from "./connection.ts";
export {
  ConnectionAdmission,
  type ConnectionLimits,
  type ConnectionPermit,
  type Refusal,
  REFUSALS,
  REJECT_REASONS,
  type RejectReason,
  SCREEN_REASONS,
  type ScreenReason,
  UNLIMITED_CONNECTIONS,
} from "./admission.ts";
export {
  startTcpServer,
  type TcpClient,
  type TcpHandler,
  type TcpServerOptions,
} from "./tcp_server.ts";
export { AcceptBackoff, type AcceptBackoffOptions, type AcceptFailure } from "./accept_backoff.ts";
export {
  ADMIN_MAX_CONNECTIONS,
  type DerivedMaxConnections,
  deriveMaxConnections,
  type DescriptorLimit,
  FALLBACK_DESCRIPTOR_LIMIT,
  METRICS_MAX_CONNECTIONS,
  readDescriptorLimit,
} from "./fd_limit.ts";
export { serveOnConnection } from "./_serve_connection.ts";
