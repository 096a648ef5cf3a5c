/**
 * Demo backends: small HTTP servers that answer with their own name, so you
 * can watch Aegis spread requests. Each also serves `/health`, and two paths
 * for trying failure handling by hand:
 *
 * - `/delay/<ms>` answers after waiting (at most 60 s);
 * - `/status/<code>` answers with that status.
 *
 * @module
 */

/** A running demo backend. */
export interface DemoBackend extends AsyncDisposable {
  /** Its name, returned in every body. */
  readonly name: string;
  /** Its base URL. */
  readonly url: string;
  /** Stops it. */
  close(): Promise<void>;
}

/** Answers one demo request. */
export async function demoHandler(name: string, request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body) + "\n", {
      status,
      headers: { "content-type": "application/json", "x-backend": name },
    });
  if (path === "/health") return json(200, { status: "ok", backend: name });
  const delay = /^\/delay\/(\d+)$/.exec(path);
  if (delay) {
    const ms = Math.min(Number(delay[1]), 60_000);
    await new Promise((r) => setTimeout(r, ms));
    return json(200, { backend: name, delayed_ms: ms });
  }
  const status = /^\/status\/([1-5]\d\d)$/.exec(path);
  if (status && Number(status[1]) >= 200) return json(Number(status[1]), { backend: name });
  return json(200, { backend: name, method: request.method, path });
}

/** Starts one demo backend on `hostname:port` (port 0 picks a free port). */
export function startDemoBackend(name: string, port: number, hostname = "127.0.0.1"): DemoBackend {
  const server = Deno.serve(
    { hostname, port, onListen() {} },
    (request) => demoHandler(name, request),
  );
  const close = () => server.shutdown();
  return {
    name,
    url: `http://${hostname}:${server.addr.port}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
