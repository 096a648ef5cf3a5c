/**
 * The runtime's `fetch` as an upstream transport (when configured: it also
 * speaks HTTP/2 to backends), and the adapter from any fetch-shaped
 * function to the request path's `Send`.
 * The contract itself lives in `src/core/transport.ts`; the pooled
 * HTTP/1.1 transport in `src/h1/`.
 *
 * @module
 */

import {
  type ClosableTransport,
  fieldList,
  isIdempotent,
  ProxyError,
  type Send,
  type Transport,
} from "../core/mod.ts";

/**
 * Sends through a fetch-shaped transport: the `Request` is built from the
 * list, and the `Response` read back into one.
 *
 * @throws {ProxyError} not_implemented for the asterisk form (`target: "*"`)
 */
export function sendVia(transport: Transport): Send {
  return async (request) => {
    // A `Request` holds a URL, and a URL's path cannot be `*`: rather than ask
    // about a resource the client never named (`OPTIONS /`), send nothing.
    if (request.target !== undefined) {
      throw new ProxyError(
        "not_implemented",
        `a fetch-shaped transport cannot send the request-target ${request.target}`,
      );
    }
    // `duplex: "half"` is what fetch requires for a streaming body; lib.dom lacks it.
    const init: RequestInit & { duplex: "half" } = {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: request.signal,
      duplex: "half",
    };
    const res = await transport(new Request(request.url, init));
    return {
      status: res.status,
      statusText: res.statusText,
      headers: fieldList(res.headers),
      body: res.body,
    };
  };
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
 *
 * `https` backends are verified against the runtime's roots and `caCerts`
 * (PEM), for the URL's own host: the runtime's client has no way to verify
 * another name.
 */
export function fetchTransport(
  options: { readonly caCerts?: readonly string[] } = {},
): ClosableTransport {
  // [SECURITY] Backend impersonation: certificates are always verified; the
  // client has an option to skip that, and it is never set.
  const trust = options.caCerts ? { caCerts: [...options.caCerts] } : {};
  const client = Deno.createHttpClient({ allowHost: true, ...trust });
  // [SECURITY] Duplicate side effects: the runtime's client sends a request
  // again, on a new connection, when a reused one closes before the answer,
  // even after the backend read it. Requests that must not arrive twice go
  // on connections that are never reused, where it never does that.
  const once = Deno.createHttpClient({ allowHost: true, poolMaxIdlePerHost: 0, ...trust });
  const send = (request: Request) => {
    request.headers.set("accept-encoding", "identity");
    return fetch(request, {
      client: isIdempotent(request.method) ? client : once,
      redirect: "manual",
    });
  };
  return {
    send: sendVia(send),
    fetch: send,
    [Symbol.dispose]() {
      client.close();
      once.close();
    },
  };
}
