/**
 * Real HTTP backends for tests: `Deno.serve` on 127.0.0.1 and an ephemeral
 * port, recording what they receive.
 *
 * @module
 */

/** What a test backend saw of one request. */
export interface Received {
  readonly method: string;
  /** Path and query, as received. */
  readonly target: string;
  readonly headers: Headers;
  /** Body bytes read (when the handler reads the body through `readBody`). */
  bodyBytes: number;
}

/** A running test backend. */
export interface TestBackend extends AsyncDisposable {
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order, except Aegis's health probes. */
  readonly received: Received[];
  /** Health probes received (`User-Agent: aegis-health-check`). */
  readonly probes: Received[];
  /** Stops the server. */
  close(): Promise<void>;
}

/** Handler of a test backend; `seen` is this request's record. */
export type BackendHandler = (request: Request, seen: Received) => Response | Promise<Response>;

/**
 * Starts a backend; by default it answers `200 ok` to everything. Health
 * probes are answered `200` and kept apart from `received`, so tests see
 * only the traffic Aegis forwarded.
 */
export function startBackend(
  handler: BackendHandler = () => new Response("ok"),
  port = 0,
): TestBackend {
  const received: Received[] = [];
  const probes: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (request) => {
    const url = new URL(request.url);
    const seen: Received = {
      method: request.method,
      target: request.url.slice(url.origin.length),
      headers: request.headers,
      bodyBytes: 0,
    };
    if (request.headers.get("user-agent") === "aegis-health-check") {
      probes.push(seen);
      return new Response("healthy");
    }
    received.push(seen);
    return handler(request, seen);
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= server.shutdown());
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    received,
    probes,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Reads a request body to the end, counting bytes into `seen`. */
export async function readBody(request: Request, seen: Received): Promise<number> {
  if (!request.body) return 0;
  for await (const chunk of request.body) seen.bodyBytes += chunk.byteLength;
  return seen.bodyBytes;
}
