/**
 * WebSocket relay: one client WebSocket joined to one backend WebSocket,
 * message by message (text stays text, binary stays binary), close codes
 * and reasons passed on, an idle deadline over both directions, and a
 * registry of open sessions so that caps can be enforced and a drain can
 * close them with `1001`.
 *
 * How the backend is reached (issue 13 asked for a choice): the runtime's
 * `WebSocketStream` client (`--unstable-net`), not a raw HTTP/1.1 upgrade
 * over the h1 transport with frame parsing of our own. It sends custom
 * headers (the forwarding headers and trace context reach the backend like
 * any request's), offers the client's subprotocols, reports the backend's
 * choice before the client is answered (so the client is upgraded with
 * exactly that protocol), pulls frames only when asked (backpressure toward
 * the backend), answers pings by itself on each hop, and says the status of
 * a refused handshake in its error. What it cannot do, and how it is met:
 * it refuses to send close codes other than 1000 and 3000–4999 (the
 * WHATWG API's rule), so a client's 1001–1014 reaches the backend as
 * `1000` with the client's reason; and it takes no `Deno.HttpClient`, so a
 * `wss://` backend must present a certificate the system trusts.
 *
 * The client side is `Deno.upgradeWebSocket`, whose server socket may send
 * any valid code: a backend's code and reason reach the client unchanged.
 *
 * @module
 */

import type { Watch } from "../clock/mod.ts";
import { fieldValue, type HeaderFields, type HeaderList, ProxyError } from "../core/mod.ts";

/** Why a WebSocket handshake from a client is refused before any backend is contacted. */
export interface HandshakeRefusal {
  /** HTTP status: 400 for a broken handshake, 403 for an Origin not allowed. */
  readonly status: number;
  /** A stable label for logs and metrics. */
  readonly reason: string;
  /** Extra response headers (`Sec-WebSocket-Version` for a version Aegis does not speak). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** True when a comma-separated header value holds `token`, case-insensitively. */
function listHas(value: string | undefined, token: string): boolean {
  return value !== undefined && value.split(",").some((t) => t.trim().toLowerCase() === token);
}

/**
 * True when the request asks to become a WebSocket (RFC 6455 §4.2.1:
 * `Upgrade: websocket` and `Connection: upgrade`). Any other `Upgrade`
 * (`h2c`, `foo`) is not a WebSocket request: it is served as a plain
 * request, its `Upgrade` stripped as hop-by-hop, and never tunnelled.
 *
 * @example
 * ```ts
 * wantsWebSocket([["upgrade", "websocket"], ["connection", "Upgrade"]]); // true
 * wantsWebSocket([["upgrade", "h2c"], ["connection", "Upgrade, HTTP2-Settings"]]); // false
 * ```
 */
export function wantsWebSocket(fields: HeaderFields): boolean {
  return listHas(fieldValue(fields, "upgrade"), "websocket") &&
    listHas(fieldValue(fields, "connection"), "upgrade");
}

/** A `Sec-WebSocket-Key`: base64 of exactly 16 bytes (RFC 6455 §4.1). */
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Checks a WebSocket upgrade request (one {@linkcode wantsWebSocket} took)
 * against RFC 6455 §4.2.1 and the listener's Origin allow-list. Returns the
 * first rule it breaks, or `undefined`.
 *
 * @param allowedOrigins exact origins (`https://app.example`); empty allows any
 */
export function checkHandshake(
  method: string,
  fields: HeaderFields,
  allowedOrigins: ReadonlySet<string>,
): HandshakeRefusal | undefined {
  // [SECURITY] Smuggling through a tunnel: only a bodiless GET may become a
  // WebSocket; an upgrade on POST, or one carrying a body, would leave bytes
  // whose meaning differs between Aegis and the backend.
  if (method !== "GET") return { status: 400, reason: "websocket_not_get" };
  const length = fieldValue(fields, "content-length");
  if (fieldValue(fields, "transfer-encoding") !== undefined || (length && length !== "0")) {
    return { status: 400, reason: "websocket_with_body" };
  }
  // [SECURITY] Malformed handshakes are refused here, so a backend never gets
  // one it might answer with a half-open tunnel.
  if (!WEBSOCKET_KEY.test(fieldValue(fields, "sec-websocket-key") ?? "")) {
    return { status: 400, reason: "websocket_bad_key" };
  }
  if (fieldValue(fields, "sec-websocket-version")?.trim() !== "13") {
    // RFC 6455 §4.4: say which version is spoken.
    return {
      status: 400,
      reason: "websocket_bad_version",
      headers: { "sec-websocket-version": "13" },
    };
  }
  // [SECURITY] Cross-site WebSocket hijacking: browsers send Origin and the
  // cookies of the target site; only the origins named may open a session.
  if (allowedOrigins.size > 0 && !allowedOrigins.has(fieldValue(fields, "origin") ?? "")) {
    return { status: 403, reason: "origin_not_allowed" };
  }
  return undefined;
}

/**
 * The subprotocols the client offers (`Sec-WebSocket-Protocol`, every
 * field, in order).
 */
export function offeredProtocols(fields: HeaderFields): string[] {
  const out: string[] = [];
  for (const [name, value] of fields) {
    if (name.toLowerCase() !== "sec-websocket-protocol") continue;
    for (const p of value.split(",")) if (p.trim()) out.push(p.trim());
  }
  return out;
}

/** Handshake fields the WebSocket client writes itself, never copied from the client. */
const HANDSHAKE_FIELDS = new Set([
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
  "host",
]);

/**
 * The headers to send to the backend from the upstream headers the
 * forwarding core built (hop-by-hop already gone): the client's handshake
 * fields are left to the WebSocket client, which writes its own key,
 * version and protocol offer for its own hop.
 */
export function backendHandshakeHeaders(upstream: HeaderList): HeaderList {
  return upstream.filter(([name]) => !HANDSHAKE_FIELDS.has(name.toLowerCase()));
}

/**
 * The backend's WebSocket URL for a request: its `http(s)` base turned into
 * `ws(s)`, then the path and query.
 *
 * @example
 * ```ts
 * backendUrl("https://10.0.0.5:8443/api", "/chat", "?room=1"); // "wss://10.0.0.5:8443/api/chat?room=1"
 * ```
 */
export function backendUrl(base: string, path: string, query: string): string {
  return base.replace(/^http/, "ws") + path + query;
}

/** The backend's side of a session, once it accepted the handshake. */
export interface BackendSocket {
  readonly stream: WebSocketStream;
  readonly readable: ReadableStream<string | Uint8Array>;
  readonly writable: WritableStream<string | Uint8Array>;
  /** The subprotocol the backend chose; empty for none. */
  readonly protocol: string;
}

/**
 * Opens the backend's side of a session.
 *
 * @throws {ProxyError} `upstream` with the backend's status when it refused
 *   the handshake (a clean answer: not a connection failure), `connect` when
 *   it could not be reached, `upstream_timeout` when `signal` fired first
 */
export async function connectBackend(
  url: string,
  protocols: readonly string[],
  headers: HeaderList,
  signal: AbortSignal,
): Promise<BackendSocket> {
  const stream = new WebSocketStream(url, {
    protocols: [...protocols],
    headers,
    signal,
  } as WebSocketStreamOptions);
  // A refused handshake rejects both promises; `opened` says why.
  stream.closed.catch(() => {});
  try {
    const opened = await stream.opened;
    return {
      stream,
      readable: opened.readable,
      writable: opened.writable,
      protocol: opened.protocol,
    };
  } catch (e) {
    if (signal.aborted) {
      throw new ProxyError("upstream_timeout", `no handshake answer from ${url}`, { cause: e });
    }
    throw handshakeFailure(e);
  }
}

/**
 * What a failed backend handshake was: the runtime says a refusal as
 * `Invalid status code: 403`; anything else is a connection failure.
 */
export function handshakeFailure(e: unknown): ProxyError & { status?: number } {
  const text = e instanceof Error ? e.message : String(e);
  const status = /Invalid status code:? (\d{3})/.exec(text)?.[1];
  if (status) {
    return Object.assign(new ProxyError("upstream", `backend refused the upgrade: ${status}`), {
      status: Number(status),
    });
  }
  return new ProxyError("connect", text, { cause: e });
}

/** Close codes a server WebSocket may send (RFC 6455 §7.4: 1004–1006 and 1015 never go on the wire). */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/** The code the backend gets for a client's: the WHATWG client sends only 1000 and 3000–4999. */
function toBackendCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

/** How a session ended. */
export interface SessionEnd {
  /** Which side ended it, or why Aegis did. */
  readonly by: "client" | "backend" | "backend_failed" | "idle" | "shutdown" | "buffer_full";
  /** The close code the client was sent or sent (1005 when none). */
  readonly code: number;
  readonly reason: string;
  /** Message payload bytes client → backend. */
  readonly bytesToBackend: number;
  /** Message payload bytes backend → client. */
  readonly bytesToClient: number;
}

/** Settings of one relayed session. */
export interface RelayOptions {
  /** Creates the session's idle deadline; its expiry closes both sides. */
  readonly watch: (onExpire: () => void) => Watch;
  /** `websocket.idle_timeout`: longest time without a message either way; 0 for none. */
  readonly idleTimeoutMs: number;
  /**
   * Most bytes of client messages waiting for the backend to take them;
   * past it the session is closed (1008), so a slow backend cannot make
   * Aegis buffer without end.
   */
  readonly maxPendingBytes: number;
  /** Told message bytes as they pass, for the pool's counters. */
  readonly onBytes?: (toBackend: number, toClient: number) => void;
}

/** A relayed session. */
export interface Session {
  /** Closes both sides: the client with `code`, the backend with 1000 (see the module doc). */
  close(code: number, reason: string): void;
  /** Settles once both sides are closed. */
  readonly ended: Promise<SessionEnd>;
}

/**
 * What the runtime's `WebSocketStream` takes and gives as close info: the
 * WHATWG names (`closeCode`), which its bundled type declarations call `code`.
 */
interface StreamCloseInfo {
  readonly closeCode?: number;
  readonly reason?: string;
}

/** Above this many bytes queued toward the client, reading from the backend pauses. */
const CLIENT_HIGH_WATER = 1024 * 1024;

/** Bytes of a message payload. */
function sizeOf(data: string | ArrayBuffer | Uint8Array | Blob): number {
  if (typeof data === "string") return new TextEncoder().encode(data).byteLength;
  if (data instanceof Blob) return data.size;
  return data.byteLength;
}

/**
 * Joins `client` (from `Deno.upgradeWebSocket`, not yet open) and
 * `backend` (open) until either closes.
 *
 * @example
 * ```ts
 * const backend = await connectBackend(url, offeredProtocols(fields), headers, signal);
 * const { socket, response } = Deno.upgradeWebSocket(request, { protocol: backend.protocol || undefined });
 * const session = relayWebSocket(socket, backend, { watch, idleTimeoutMs: 60_000, maxPendingBytes: 16 << 20 });
 * return response;
 * ```
 */
export function relayWebSocket(
  client: WebSocket,
  backend: BackendSocket,
  options: RelayOptions,
): Session {
  client.binaryType = "arraybuffer";
  const writer = backend.writable.getWriter();
  const reader = backend.readable.getReader();
  const ended = Promise.withResolvers<SessionEnd>();
  let toBackend = 0;
  let toClient = 0;
  let pending = 0;
  let end: Omit<SessionEnd, "bytesToBackend" | "bytesToClient"> | undefined;
  let clientClosed = false;
  let backendClosed = false;

  const finish = () => {
    if (!clientClosed || !backendClosed || !end) return;
    idle[Symbol.dispose]();
    ended.resolve({ ...end, bytesToBackend: toBackend, bytesToClient: toClient });
  };
  const closeClient = (code: number | undefined, reason: string) => {
    if (client.readyState >= WebSocket.CLOSING) return;
    try {
      client.close(code !== undefined && sendable(code) ? code : undefined, reason);
    } catch {
      client.close();
    }
  };
  const closeBackend = (code: number, reason: string) => {
    if (backendClosed) return;
    try {
      backend.stream.close(
        {
          closeCode: toBackendCode(code),
          reason,
        } satisfies StreamCloseInfo as WebSocketCloseInfo,
      );
    } catch {
      // Already closing.
    }
  };
  /** Ends the session for a reason of Aegis's own: both sides get a close. */
  const stop = (by: SessionEnd["by"], code: number, reason: string) => {
    end ??= { by, code, reason };
    closeClient(code, reason);
    closeBackend(code, reason);
  };

  const idle = options.watch(() => stop("idle", 1001, "idle timeout"));
  const touch = () => {
    if (options.idleTimeoutMs > 0) idle.arm(options.idleTimeoutMs);
  };
  touch();

  client.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
    touch();
    const data = typeof e.data === "string" ? e.data : new Uint8Array(e.data);
    const bytes = sizeOf(data);
    toBackend += bytes;
    options.onBytes?.(bytes, 0);
    pending += bytes;
    // [SECURITY] Memory exhaustion: the client's messages arrive whether or not
    // the backend takes them; past the bound the session ends instead of growing.
    if (pending > options.maxPendingBytes) return stop("buffer_full", 1008, "backend too slow");
    writer.write(data).then(() => pending -= bytes, () => {});
  };
  client.onerror = () => {};
  client.onclose = (e) => {
    clientClosed = true;
    end ??= { by: "client", code: e.code, reason: e.reason };
    closeBackend(e.code, e.reason);
    finish();
  };

  const pump = async () => {
    // The client must be open before anything is sent to it.
    if (client.readyState === WebSocket.CONNECTING) {
      await new Promise((r) => client.addEventListener("open", r, { once: true }));
    }
    for (;;) {
      while (client.bufferedAmount > CLIENT_HIGH_WATER && client.readyState === WebSocket.OPEN) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const { value, done } = await reader.read();
      if (done || client.readyState !== WebSocket.OPEN) return;
      touch();
      const bytes = sizeOf(value);
      toClient += bytes;
      options.onBytes?.(0, bytes);
      client.send(value);
    }
  };
  pump().catch(() => {});

  backend.stream.closed.then(
    (info) => {
      const { closeCode = 1005, reason = "" } = info as unknown as StreamCloseInfo;
      backendClosed = true;
      end ??= { by: "backend", code: closeCode, reason };
      closeClient(closeCode, reason);
    },
    () => {
      // Gone without a close frame (killed, connection reset).
      backendClosed = true;
      end ??= { by: "backend_failed", code: 1011, reason: "backend went away" };
      closeClient(1011, "backend went away");
    },
  ).finally(finish);

  return {
    close: (code, reason) => stop("shutdown", code, reason),
    ended: ended.promise,
  };
}

/** Why the registry refused a new session. */
export type SessionRefusal = "max_connections" | "per_client";

/** A place in the registry, released once when the session ends. */
export interface SessionPermit extends Disposable {
  /** Puts the session on the drain list. */
  track(session: Session): void;
}

/**
 * The open sessions of one listener: caps on how many (overall and per
 * client), and closing them all on drain or shutdown.
 */
export class SessionRegistry {
  readonly #open = new Set<Session>();
  readonly #perClient = new Map<string, number>();
  #admitted = 0;
  #draining: { code: number; reason: string } | undefined;

  /**
   * @param maxConnections most sessions at once (0: no cap)
   * @param maxPerClient most sessions per client key at once (0: no cap)
   */
  constructor(public maxConnections: number, public maxPerClient: number) {}

  /** New caps (a reload): they apply to sessions admitted from now on; open ones stay. */
  setCaps(maxConnections: number, maxPerClient: number): void {
    this.maxConnections = maxConnections;
    this.maxPerClient = maxPerClient;
  }

  /** Sessions admitted and not yet ended. */
  get open(): number {
    return this.#admitted;
  }

  /** A place for a session of `client`, or why there is none. */
  admit(client: string): SessionPermit | SessionRefusal {
    // [SECURITY] Resource exhaustion: a WebSocket holds a client socket and a
    // backend socket for as long as it lives; these caps bound both.
    if (this.maxConnections > 0 && this.#admitted >= this.maxConnections) return "max_connections";
    const mine = this.#perClient.get(client) ?? 0;
    if (this.maxPerClient > 0 && mine >= this.maxPerClient) return "per_client";
    this.#admitted++;
    this.#perClient.set(client, mine + 1);
    let session: Session | undefined;
    let released = false;
    return {
      track: (s) => {
        session = s;
        this.#open.add(s);
        if (this.#draining) s.close(this.#draining.code, this.#draining.reason);
      },
      [Symbol.dispose]: () => {
        if (released) return;
        released = true;
        this.#admitted--;
        const left = (this.#perClient.get(client) ?? 1) - 1;
        if (left > 0) this.#perClient.set(client, left);
        else this.#perClient.delete(client);
        if (session) this.#open.delete(session);
      },
    };
  }

  /**
   * Closes every open session (and any tracked from now on) with `code`
   * (1001, going away, for a shutdown); resolves once they have all ended.
   */
  async closeAll(code = 1001, reason = "server shutting down"): Promise<void> {
    this.#draining = { code, reason };
    const open = [...this.#open];
    for (const s of open) s.close(code, reason);
    await Promise.all(open.map((s) => s.ended));
  }
}
