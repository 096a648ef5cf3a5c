/**
 * Backends for the stress run. Each answers with an echo of what it received
 * (see `_protocol.ts`) and can be switched while the run goes on: `fail`
 * answers 500, `hang` never answers (until Aegis gives up on the request or
 * the backend recovers), `drop` closes connections without an answer, or in
 * the middle of a streamed body; `ok` recovers. Health probes get the same
 * treatment as traffic, so health checks and circuit breakers both react.
 *
 * Two kinds: `Deno.serve` backends here, the real HTTP server, and one over
 * raw TCP in `_raw_backend.ts`, because only a raw socket can close a
 * connection before any response byte or halfway through a body.
 *
 * @module
 */

import { HEALTH_USER_AGENT } from "../../src/health/mod.ts";
import { echoBytes, echoChunks, type EchoMeta, fillerLines, parseTarget } from "./_protocol.ts";

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

/** All counts at zero. */
export function newCounts(): BackendCounts {
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

/** The headers every echo response carries. */
export function echoHeaders(name: string, id: string): Record<string, string> {
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
