/**
 * The public listener: accept, connection timeouts, graceful drain.
 *
 * @module
 */

export { clientFromAddr, type Server, type ServerOptions, startServer } from "./server.ts";
export { type CloseReason, ConnectionState, type ConnectionTimeouts } from "./connection.ts";
export { serveOnConnection } from "./_serve_connection.ts";
