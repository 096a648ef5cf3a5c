/**
 * The load benchmark's backends, run as their own process so they never share
 * an event loop with the proxy under test.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 tests/bench/_backend_server.ts --count 3
 * ```
 *
 * Listens on `--count` free ports of 127.0.0.1 (one `Deno.serve` each) and
 * prints one line, `ports 40001,40002,40003`, once every port listens. Every
 * port answers the same way:
 *
 * - `GET /64k`: 65,536 bytes;
 * - `GET /stream?bytes=N`: N bytes, streamed in 64 KiB chunks (chunked
 *   encoding), each produced only when the client has taken the previous one;
 * - `POST` (any path): reads the whole body, throws it away, answers `ok`;
 * - anything else, including `/health`: `ok`.
 *
 * Bodies are preallocated and headers minimal: the backend should cost as
 * little as possible so that the benchmark measures the proxy.
 *
 * @module
 */

const OK = new TextEncoder().encode("ok");
const BIG = new Uint8Array(64 * 1024).fill(0x61);
const TEXT = { "content-type": "text/plain" };

async function handle(request: Request): Promise<Response> {
  if (request.method === "POST") {
    // A sink: read every byte, as a real upload handler would, keep none.
    if (request.body) { for await (const _chunk of request.body); }
    return new Response(OK, { headers: TEXT });
  }
  if (request.url.includes("/stream?")) return stream(request.url);
  return new Response(request.url.endsWith("/64k") ? BIG : OK, { headers: TEXT });
}

/** `bytes=N` of the query as N bytes of `BIG`, pulled chunk by chunk: nothing piles up here. */
function stream(url: string): Response {
  let left = Number(new URL(url).searchParams.get("bytes"));
  if (!Number.isSafeInteger(left) || left < 0) return new Response("bad bytes", { status: 400 });
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left <= 0) return controller.close();
      const n = Math.min(left, BIG.length);
      left -= n;
      controller.enqueue(BIG.subarray(0, n));
    },
  });
  return new Response(body, { headers: TEXT });
}

const at = Deno.args.indexOf("--count");
const count = at >= 0 ? Number(Deno.args[at + 1]) : 3;
if (!Number.isInteger(count) || count < 1) {
  console.error("usage: _backend_server.ts [--count N]");
  Deno.exit(2);
}

const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handle);
  ports.push(server.addr.port);
}
console.log(`ports ${ports.join(",")}`);
