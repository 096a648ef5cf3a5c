/**
 * The two ends of the request-path contract: who the client is, and the
 * fetch-shaped handler every listener calls.
 *
 * @module
 */

/** Who is on the other end of the client connection. */
export interface ClientInfo {
  /** The socket peer address: the only source of client identity. */
  readonly ip: string;
  /** The socket peer port. */
  readonly port: number;
  /** How the client reached Aegis. */
  readonly proto: "http" | "https";
  /**
   * Port of the listener that accepted the connection: the runtime names it
   * in the stand-in authority (`localhost:<port>`) of a request without
   * `Host`, which is how such a request is recognised (see `validate.ts`).
   */
  readonly listenerPort: number;
  /**
   * True when the connection can be upgraded to a WebSocket that outlives
   * the upgrading exchange (the listener relays WebSocket, and served this
   * connection so); absent otherwise.
   */
  readonly upgradable?: boolean;
}

/** What a listener calls for each request: answers it, and never throws. */
export type ProxyHandler = (request: Request, client: ClientInfo) => Promise<Response>;
