/**
 * Backends for the stress run. Each answers with an echo of what it received
 * (see `_protocol.ts`) and can be switched while the run goes on: `fail`
 * answers 500, `hang` never answers (until Aegis gives up on the request or
 * the backend recovers), `drop` closes connections without an answer, or in
 * the middle of a streamed body; `ok` recovers. Health probes get the same
 * treatment as traffic, so health checks and circuit breakers both react.
 *
 * Two kinds: `Deno.serve` backends, the real HTTP server, and one over raw
 * TCP, because only a raw socket can close a connection before any response
 * byte or halfway through a body.
 *
 * @module
 */

import { HEALTH_USER_AGENT } from "../../src/health/mod.ts";
import { echoBytes, echoChunks, type EchoMeta, fillerLines, parseTarget } from "./_protocol.ts";
import { RequestReader, writeAll } from "./_raw_http.ts";

/** What a backend does with what it receives. */
export type BackendMode = "ok" | "fail" | "hang" | "drop";

/** What a backend did, for the report. */
export interface BackendCounts {
  /** Requests received (health probes apart). */
  received: number;
  /** Answered 200. */
  answered: number;
  /** Answered 500. */
  failed: number;
  /** Held without an answer. */
  hung: number;
  /** Connections closed without a (complete) answer. */
  dropped: number;
  /** Health probes received. */
  probes: number;
}

/**
 * How often each request reached any backend, by request index: a POST must
 * reach one at most once (it is never retried), whatever fails around it.
 */
export class Receipts {
  /** Receipts of each request, any method (saturates at 255). */
  readonly all: Uint8Array;
  /** Receipts of each POST request. */
  readonly posts: Uint8Array;
  /** Which backends received each request: bit `i` for the `i`-th name. */
  readonly who: Uint8Array;
  readonly #names: readonly string[];

  /** @param names the backends' names, at most 8 */
  constructor(requests: number, names: readonly string[]) {
    this.all = new Uint8Array(requests);
    this.posts = new Uint8Array(requests);
    this.who = new Uint8Array(requests);
    this.#names = names;
  }

  /** Notes that request `index` reached the backend called `backend`. */
  record(index: number, method: string, backend: string): void {
    if (index >= this.all.length) return;
    if (this.all[index]! < 255) this.all[index]!++;
    if (method === "POST" && this.posts[index]! < 255) this.posts[index]!++;
    this.who[index]! |= 1 << this.#names.indexOf(backend);
  }

  /** The names of the backends that received request `index`. */
  receivers(index: number): string[] {
    return this.#names.filter((_, i) => (this.who[index]! & (1 << i)) !== 0);
  }
}

/** A running stress backend. */
export interface StressBackend extends AsyncDisposable {
  readonly name: string;
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  /** What it does now; setting it takes effect for the next request (and frees hung ones). */
  mode: BackendMode;
  readonly counts: BackendCounts;
}

function newCounts(): BackendCounts {
  return { received: 0, answered: 0, failed: 0, hung: 0, dropped: 0, probes: 0 };
}

/** Waits `ms`, or less if `signal` aborts; leaves no timer behind either way. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Requests held by a hanging backend, released when it recovers or closes. */
class Hangs {
  readonly #waiting = new Set<() => void>();

  /** Resolves when `signal` aborts (Aegis gave up) or {@linkcode Hangs.releaseAll} is called. */
  hold(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        this.#waiting.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#waiting.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  releaseAll(): void {
    for (const done of [...this.#waiting]) done();
  }
}

function echoHeaders(name: string, id: string): Record<string, string> {
  return { "content-type": "text/plain", "x-stress-backend": name, "x-echo-id": id };
}

/**
 * A `Deno.serve` backend on 127.0.0.1, port 0. Modes `ok`, `fail` and
 * `hang`; it cannot drop a connection (the runtime's server always answers).
 */
export function startEchoBackend(name: string, receipts: Receipts): StressBackend {
  let mode: BackendMode = "ok";
  const counts = newCounts();
  const hangs = new Hangs();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const origin = request.url.indexOf("/", "http://".length);
    const target = request.url.slice(origin);
    if (request.headers.get("user-agent") === HEALTH_USER_AGENT) {
      counts.probes++;
      if (mode === "hang") await hangs.hold(request.signal);
      return new Response("healthy", { status: mode === "fail" ? 500 : 200 });
    }
    const parsed = parseTarget(target);
    if (!parsed) return new Response("not a stress target", { status: 404 });
    counts.received++;
    receipts.record(parsed.index, request.method, name);
    const body = request.body ? await request.text() : "";
    if (mode === "hang") {
      counts.hung++;
      await hangs.hold(request.signal);
    } else if (parsed.delayMs > 0) {
      await sleep(parsed.delayMs, request.signal);
    }
    const id = request.headers.get("x-request-id") ?? "";
    const meta: EchoMeta = {
      id,
      method: request.method,
      target,
      body,
      backend: name,
      lines: fillerLines(id, parsed.kind),
    };
    const status = mode === "fail" ? 500 : 200;
    if (status === 500) counts.failed++;
    else counts.answered++;
    const headers = echoHeaders(name, id);
    if (parsed.kind !== "b") return new Response(echoBytes(meta), { status, headers });
    // Streamed without a length: Aegis relays it as a stream, not as bytes.
    const chunks = echoChunks(meta);
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = chunks.next();
        if (next.done) c.close();
        else c.enqueue(next.value);
      },
    });
    return new Response(stream, { status, headers });
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (() => {
      hangs.releaseAll();
      return server.shutdown();
    })();
  return {
    name,
    url: `http://127.0.0.1:${server.addr.port}`,
    get mode() {
      return mode;
    },
    set mode(next: BackendMode) {
      if (next === "drop") throw new Error(`${name}: a Deno.serve backend cannot drop connections`);
      mode = next;
      if (next !== "hang") hangs.releaseAll();
    },
    counts,
    [Symbol.asyncDispose]: close,
  };
}

const encoder = new TextEncoder();

function head(status: number, headers: Record<string, string>): string {
  const lines = [`HTTP/1.1 ${status} ${status === 200 ? "OK" : "Internal Server Error"}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return lines.join("\r\n") + "\r\n\r\n";
}

function chunk(bytes: Uint8Array): Uint8Array {
  const size = encoder.encode(bytes.byteLength.toString(16) + "\r\n");
  const out = new Uint8Array(size.byteLength + bytes.byteLength + 2);
  out.set(size);
  out.set(bytes, size.byteLength);
  out.set([13, 10], size.byteLength + bytes.byteLength);
  return out;
}

/**
 * A backend over raw TCP with a minimal HTTP/1.1 server (keep-alive,
 * `Content-Length` request bodies). Modes `ok`, `fail` and `drop`; `drop` closes the
 * connection right after reading a request, except that a big (streamed)
 * response is cut after its head and first chunk.
 */
export function startRawEchoBackend(name: string, receipts: Receipts): StressBackend {
  let mode: BackendMode = "ok";
  const counts = newCounts();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.TcpConn>();
  const tasks = new Set<Promise<void>>();

  const serve = async (conn: Deno.TcpConn) => {
    const reader = new RequestReader(conn);
    for (;;) {
      const req = await reader.next();
      if (!req) return;
      if (req.headers.get("user-agent") === HEALTH_USER_AGENT) {
        counts.probes++;
        if (mode === "drop") return;
        const status = mode === "fail" ? 500 : 200;
        await writeAll(conn, encoder.encode(head(status, { "content-length": "0" })));
        continue;
      }
      const parsed = parseTarget(req.target);
      if (!parsed) {
        await writeAll(conn, encoder.encode(head(500, { "content-length": "0" })));
        continue;
      }
      counts.received++;
      receipts.record(parsed.index, req.method, name);
      const id = req.headers.get("x-request-id") ?? "";
      const meta: EchoMeta = {
        id,
        method: req.method,
        target: req.target,
        body: req.body,
        backend: name,
        lines: fillerLines(id, parsed.kind),
      };
      if (mode === "drop" && parsed.kind !== "b") {
        counts.dropped++;
        return;
      }
      if (parsed.delayMs > 0) await new Promise((r) => setTimeout(r, parsed.delayMs));
      const status = mode === "fail" ? 500 : 200;
      const headers = echoHeaders(name, id);
      if (parsed.kind !== "b") {
        const bytes = echoBytes(meta);
        headers["content-length"] = String(bytes.byteLength);
        await writeAll(conn, encoder.encode(head(status, headers)));
        await writeAll(conn, bytes);
      } else {
        headers["transfer-encoding"] = "chunked";
        await writeAll(conn, encoder.encode(head(status, headers)));
        let first = true;
        for (const part of echoChunks(meta)) {
          await writeAll(conn, chunk(part));
          if (first && mode === "drop") {
            // Give the head and first chunk time to reach the client through
            // Aegis, then cut the body short.
            await new Promise((r) => setTimeout(r, 10));
            counts.dropped++;
            return;
          }
          first = false;
        }
        await writeAll(conn, encoder.encode("0\r\n\r\n"));
      }
      if (status === 500) counts.failed++;
      else counts.answered++;
      if (req.close) return;
    }
  };

  const loop = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      open.add(conn);
      const task = serve(conn).catch(() => {}).finally(() => {
        open.delete(conn);
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      });
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      listener.close();
      await loop;
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
      await Promise.all(tasks);
    })();
  return {
    name,
    url: `http://127.0.0.1:${listener.addr.port}`,
    get mode() {
      return mode;
    },
    set mode(next: BackendMode) {
      if (next === "hang") throw new Error(`${name}: the raw backend does not hang`);
      mode = next;
    },
    counts,
    [Symbol.asyncDispose]: close,
  };
}
