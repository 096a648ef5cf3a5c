/**
 * Upstream transports: anything with the signature of `fetch`. The default
 * is the runtime's `fetch` with a dedicated HTTP client.
 *
 * @module
 */

/** A fetch-shaped function that sends a request to a backend. */
export type Transport = (request: Request) => Promise<Response>;

/** A transport that owns connections and must be closed. */
export interface ClosableTransport extends Disposable {
  /** Sends a request. */
  readonly fetch: Transport;
}

/**
 * The runtime's `fetch` behind a dedicated `Deno.HttpClient`, which is what
 * lets a client's `Host` header through (`allowHost`) and gives Aegis its own
 * connection pool to close on shutdown.
 *
 * `fetch` decodes gzip and brotli bodies by itself whenever the request
 * accepted them, and cannot be told not to (denoland/deno#12291), while
 * keeping `Content-Encoding` and `Content-Length` as the backend sent them:
 * relayed as is, a client would get a plain body labelled compressed. So
 * requests through `fetch` always ask the backend for `identity`; a body a
 * backend compresses anyway is not decoded, and passes through labelled.
 */
export function fetchTransport(): ClosableTransport {
  const client = Deno.createHttpClient({ allowHost: true });
  return {
    fetch(request) {
      request.headers.set("accept-encoding", "identity");
      return fetch(request, { client, redirect: "manual" });
    },
    [Symbol.dispose]() {
      client.close();
    },
  };
}

/**
 * Picks a transport per request by scheme: `http:` to `plain`, everything
 * else to `secure`. Disposing it disposes both.
 */
export function byScheme(plain: ClosableTransport, secure: ClosableTransport): ClosableTransport {
  return {
    fetch: (request) => (request.url.startsWith("http:") ? plain : secure).fetch(request),
    [Symbol.dispose]() {
      plain[Symbol.dispose]();
      secure[Symbol.dispose]();
    },
  };
}
