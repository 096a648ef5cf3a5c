/**
 * Why listeners that relay WebSocket are served by another engine
 * (`src/server/_serve_upgradable.ts`, README "WebSocket"): on the runtime's
 * per-connection HTTP server, which the other http listeners use for their
 * connection timeouts, an upgraded WebSocket dies as soon as the HTTP
 * exchange that upgraded it ends. `Deno.serve` keeps it alive. These tests
 * pin both facts; the first fails when a runtime upgrade fixes the
 * per-connection server, and every listener can then use it again.
 */

import assert from "node:assert/strict";
import { serveOnConnection } from "../../src/server/_serve_connection.ts";

/** Sends one message once open and resolves with the echo, or with how the socket closed first. */
function echoOnce(url: string): Promise<string> {
  const ws = new WebSocket(url);
  return new Promise((resolve) => {
    ws.onopen = () => ws.send("ping");
    ws.onmessage = (e) => {
      resolve(`echo ${e.data}`);
      ws.close();
    };
    ws.onerror = () => {};
    ws.onclose = (e) => resolve(`closed ${e.code}`);
  }).then(async (outcome) => {
    if (ws.readyState !== WebSocket.CLOSED) {
      await new Promise((r) => ws.addEventListener("close", r, { once: true }));
    }
    return outcome as string;
  });
}

/** An echoing WebSocket handler; resolves `ended` once the server side has closed. */
function echoHandler() {
  const ended = Promise.withResolvers<void>();
  const handler = (request: Request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    socket.onmessage = (e) => socket.send(e.data);
    socket.onclose = () => ended.resolve();
    return Promise.resolve(response);
  };
  return { handler, ended: ended.promise };
}

Deno.test("the per-connection server closes an upgraded WebSocket when the HTTP exchange ends", async () => {
  const serve = serveOnConnection()!;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const abort = new AbortController();
  const { handler, ended } = echoHandler();
  const served = listener.accept().then((conn) =>
    serve(conn, abort.signal, handler, () => new Response(null, { status: 500 }), () => {})
  );
  const outcome = await echoOnce(`ws://127.0.0.1:${listener.addr.port}/`);
  await ended;
  await (await served).finished.catch(() => {});
  listener.close();
  assert.notEqual(
    outcome,
    "echo ping",
    "the per-connection server now keeps upgraded WebSockets: WebSocket listeners " +
      "need not be served by src/server/_serve_upgradable.ts any more",
  );
});

Deno.test("Deno.serve keeps an upgraded WebSocket open", async () => {
  const { handler, ended } = echoHandler();
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  assert.equal(await echoOnce(`ws://127.0.0.1:${server.addr.port}/`), "echo ping");
  await ended;
});
