/**
 * The stress run's raw TCP backend: a minimal HTTP/1.1 server that can do
 * what the runtime's server never does, close a connection before answering
 * or halfway through a streamed body.
 *
 * @module
 */

import { HEALTH_USER_AGENT } from "../../src/health/mod.ts";
import {
  type BackendMode,
  echoHeaders,
  newCounts,
  type Receipts,
  type StressBackend,
} from "./_backends.ts";
import { echoBytes, echoChunks, type EchoMeta, fillerLines, parseTarget } from "./_protocol.ts";
import { send, startRawBackend } from "../_helpers/raw.ts";
import { RequestReader } from "../_helpers/wire.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
  const serve = async (conn: Deno.TcpConn) => {
    const reader = new RequestReader(conn);
    for (;;) {
      const req = await reader.next();
      if (!req) return;
      if (req.headers.get("user-agent") === HEALTH_USER_AGENT) {
        counts.probes++;
        if (mode === "drop") return;
        const status = mode === "fail" ? 500 : 200;
        await send(conn, head(status, { "content-length": "0" }));
        continue;
      }
      const parsed = parseTarget(req.target);
      if (!parsed) {
        await send(conn, head(500, { "content-length": "0" }));
        continue;
      }
      counts.received++;
      receipts.record(parsed.index, req.method, name);
      const id = req.headers.get("x-request-id") ?? "";
      const meta: EchoMeta = {
        id,
        method: req.method,
        target: req.target,
        body: decoder.decode(req.body),
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
        await send(conn, head(status, headers));
        await send(conn, bytes);
      } else {
        headers["transfer-encoding"] = "chunked";
        await send(conn, head(status, headers));
        let first = true;
        for (const part of echoChunks(meta)) {
          await send(conn, chunk(part));
          if (first && mode === "drop") {
            // Give the head and first chunk time to reach the client through
            // Aegis, then cut the body short.
            await new Promise((r) => setTimeout(r, 10));
            counts.dropped++;
            return;
          }
          first = false;
        }
        await send(conn, "0\r\n\r\n");
      }
      if (status === 500) counts.failed++;
      else counts.answered++;
      if (req.headers.get("connection")?.toLowerCase() === "close") return;
    }
  };

  const raw = startRawBackend(serve);
  let closing: PromiseLike<void> | undefined;
  const close = () => closing ??= raw[Symbol.asyncDispose]();
  return {
    name,
    url: raw.url,
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
