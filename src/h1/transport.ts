/**
 * The pooled HTTP/1.1 upstream transport: the signature of `fetch`, over
 * keep-alive `Deno.connect` sockets, and TLS on them for `https:` backends
 * (each certificate verified for the server name). It is the fast path: the
 * runtime's `fetch` client spends most of a small request's time on work a
 * reverse proxy does not need.
 *
 * Bodies stream both ways with backpressure (nothing is read from a socket
 * before the consumer asks). Responses are parsed strictly and fail closed
 * (`parse.ts`); a request an idle connection's peer had already given up
 * on (the keep-alive race) is sent once more on a fresh connection when it
 * is safe to.
 *
 * One exchange on one connection, and whether the connection may carry
 * another, is `exchange.ts`; this module sends requests through the pools.
 *
 * @module
 */

import { asUpstreamError, type Body, bodyOf, exchange, NoResponse } from "./exchange.ts";
import { HostPool, type PoolLimits, type TlsTarget } from "./pool.ts";
import { serializeRequestHead } from "./serialize.ts";
import {
  type ClosableTransport,
  fieldList,
  type HeaderList,
  isIdempotent,
  type Payload,
  ProxyError,
  type UpstreamRequest,
  type UpstreamResponse,
} from "../core/mod.ts";

/** One backend origin's connections, as {@linkcode H1Transport.pools} shows them. */
export interface H1PoolView {
  /** `host:port` (`https://host:port` for an `https` backend). */
  readonly origin: string;
  /** Connections open, busy or idle. */
  readonly open: number;
  /** Idle connections kept for reuse. */
  readonly idle: number;
  /** Idle connections dropped because something arrived on them. */
  readonly unsolicited: number;
}

/** The h1 transport: a closable transport whose pools can be inspected. */
export interface H1Transport extends ClosableTransport {
  /** A plain-data view of every backend origin's pool. */
  pools(): H1PoolView[];
}

/** Options for {@linkcode h1Transport}. */
export interface H1Options extends PoolLimits {
  /** Largest response head accepted; larger ones are a protocol error (502). */
  readonly maxHeaderBytes: number;
  /**
   * How `https:` backends are verified: CA certificates trusted besides the
   * runtime's roots, and the name verified (each URL's host by default).
   */
  readonly tls?: Partial<TlsTarget>;
}

/** Request bodies up to this size, with a declared length, are read first and can be resent. */
const REPLAYABLE_BYTES = 64 * 1024;
/** A fetch-shaped request's body: read in full when small and declared, so it can be resent. */
async function payloadOf(request: Request): Promise<Payload | null> {
  if (request.body === null) return null;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) <= REPLAYABLE_BYTES) {
    return new Uint8Array(await request.arrayBuffer());
  }
  return request.body;
}

/** Framing fields Aegis writes itself, from the body it actually sends. */
const FRAMING = new Set(["content-length", "transfer-encoding", "connection"]);

/** A backend origin's pool, and the `Host` its requests carry when the caller sets none. */
interface Origin {
  readonly pool: HostPool;
  readonly host: string;
}

function headLines(fields: HeaderList, hostOfUrl: string, body: Body): HeaderList {
  const out: HeaderList = [];
  let host = false;
  for (const field of fields) {
    const lower = field[0].toLowerCase();
    if (FRAMING.has(lower)) continue;
    if (lower === "host") host = true;
    out.push(field);
  }
  if (!host) out.push(["host", hostOfUrl]);
  if (body.kind === "bytes") out.push(["content-length", String(body.bytes.byteLength)]);
  else if (body.kind === "stream") {
    if (body.length !== undefined) out.push(["content-length", String(body.length)]);
    else out.push(["transfer-encoding", "chunked"]);
  }
  return out;
}

/**
 * Builds the transport.
 *
 * @example
 * ```ts
 * using h1 = h1Transport({ maxConnections: 256, maxIdle: 64, idleTimeoutMs: 4000, connectTimeoutMs: 5000, maxHeaderBytes: 65536 });
 * const res = await h1.fetch(new Request("http://10.0.0.5:8080/"));
 * ```
 */
export function h1Transport(options: H1Options): H1Transport {
  const pools = new Map<string, HostPool>();
  const sweeper = setInterval(() => {
    for (const pool of pools.values()) pool.sweep();
  }, Math.max(1000, options.idleTimeoutMs / 2));

  const poolFor = (url: URL): HostPool => {
    const secure = url.protocol === "https:";
    // [SECURITY] Plain and TLS connections to one host:port never share a pool.
    const key = secure ? url.origin : url.host;
    let pool = pools.get(key);
    if (!pool) {
      const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
      const tls = secure
        ? { serverName: options.tls?.serverName ?? hostname, caCerts: options.tls?.caCerts }
        : undefined;
      pool = new HostPool(hostname, Number(url.port || (secure ? 443 : 80)), options, tls);
      pools.set(key, pool);
    }
    return pool;
  };

  /**
   * Each origin's pool and `Host`, by the URL's `scheme://authority` prefix
   * exactly as written: every request to a backend starts with the same
   * prefix, so it is parsed once, not on every request.
   */
  const origins = new Map<string, Origin>();
  const originOf = (href: string, pathAt: number): Origin => {
    const prefix = href.slice(0, pathAt);
    const known = origins.get(prefix);
    if (known) return known;
    const url = new URL(href);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ProxyError(
        "internal",
        `the h1 transport speaks http and https, not ${url.protocol}`,
      );
    }
    const origin = { pool: poolFor(url), host: url.host };
    // Only a prefix that is the origin as URL writes it is remembered (no
    // userinfo, no query glued to the authority): anything else is parsed
    // each time, as before.
    if (prefix === `${url.protocol}//${url.host}`) origins.set(prefix, origin);
    return origin;
  };

  const send = async (request: UpstreamRequest): Promise<UpstreamResponse> => {
    const pathAt = rawTargetAt(request.url);
    const { pool, host } = originOf(request.url, pathAt);
    const body = bodyOf(request);
    const head = serializeRequestHead(
      request.method,
      request.target ?? rawTarget(request.url, pathAt),
      headLines(request.headers, host, body),
    );
    const resendable = isIdempotent(request.method) && body.kind !== "stream";
    for (let fresh = false;; fresh = true) {
      const conn = (!fresh && pool.takeIdle()) || await pool.acquire(request.signal, fresh);
      const reused = conn.reused;
      try {
        return await exchange(conn, pool, request, head, body, options.maxHeaderBytes);
      } catch (e) {
        pool.discard(conn);
        if (request.signal.aborted) throw request.signal.reason ?? e;
        // The keep-alive race: the backend closed this idle connection just as
        // it was reused. Nothing came back, so nothing was processed twice.
        if (e instanceof NoResponse && reused && !fresh && resendable) continue;
        throw asUpstreamError(e);
      }
    }
  };

  return {
    send,
    pools: () =>
      [...pools].map(([origin, pool]) => ({
        origin,
        open: pool.open,
        idle: pool.idle,
        unsolicited: pool.unsolicited,
      })),
    async fetch(request) {
      const res = await send({
        method: request.method,
        url: request.url,
        headers: fieldList(request.headers),
        body: await payloadOf(request),
        signal: request.signal,
      });
      return new Response(res.body, res);
    },
    [Symbol.dispose]() {
      clearInterval(sweeper);
      for (const pool of pools.values()) pool.close();
      pools.clear();
      origins.clear();
    },
  };
}

/**
 * The path and query of an absolute URL exactly as written. `URL` would
 * resolve dot segments (`/a/./b` becomes `/a/b`) and re-encode some
 * characters; the backend must get the target the client sent. `slash` is
 * where its path starts ({@linkcode rawTargetAt}), found once per request.
 */
function rawTarget(url: string, slash: number): string {
  if (slash === url.length) return "/";
  const hash = url.indexOf("#", slash);
  return hash < 0 ? url.slice(slash) : url.slice(slash, hash);
}

/** Where the path starts in an absolute URL: the first `/` after `://`, or its length. */
function rawTargetAt(url: string): number {
  const slash = url.indexOf("/", url.indexOf("://") + 3);
  return slash < 0 ? url.length : slash;
}
