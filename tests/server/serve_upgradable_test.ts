/**
 * The per-connection server on which an upgraded WebSocket stays open
 * (`src/server/_serve_upgradable.ts`, over the runtime's `Deno.serveHttp`):
 * that the runtime still has it, and the contract the listener relies on.
 */

import assert from "node:assert/strict";
import { upgradableServeOnConnection } from "../../src/server/_serve_upgradable.ts";
import { connect, rawGet, readUntilClose, send } from "../_helpers/raw.ts";

Deno.test("this runtime has Deno.serveHttp (WebSocket relaying depends on it)", () => {
  assert.equal(
    typeof upgradableServeOnConnection(),
    "function",
    "Deno.serveHttp is gone: after a runtime upgrade, src/server/_serve_upgradable.ts needs " +
      "another per-connection server on which an upgraded WebSocket outlives its exchange",
  );
});

/** Serves the next connection of a fresh listener with `handler`. */
function serveNext(handler: (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response>) {
  const serve = upgradableServeOnConnection()!;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const abort = new AbortController();
  const served = listener.accept().then((conn) => {
    listener.close();
    return serve(
      conn,
      abort.signal,
      handler,
      () => new Response("oops", { status: 500 }),
      () => {},
    );
  });
  return { port: listener.addr.port, abort, served };
}

Deno.test("an upgraded WebSocket outlives the exchange that upgraded it", async () => {
  const ended = Promise.withResolvers<void>();
  const { port, served } = serveNext((request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    socket.onmessage = (e) => socket.send(`echo ${e.data}`);
    socket.onclose = () => ended.resolve();
    return Promise.resolve(response);
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise((r) => ws.onopen = r);
  const echoes: string[] = [];
  for (const m of ["a", "b", "c"]) {
    ws.send(m);
    echoes.push(await new Promise((r) => ws.onmessage = (e) => r(e.data)));
    // Later than the exchange: the runtime's other per-connection server has closed it by now.
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(echoes, ["echo a", "echo b", "echo c"]);
  ws.close();
  await new Promise((r) => ws.onclose = r);
  await ended.promise;
  await (await served).finished;
});

Deno.test("the handler gets the peer address, and completed settles once the response is written", async () => {
  let info: Deno.ServeHandlerInfo<Deno.NetAddr> | undefined;
  const { port, served } = serveNext((_request, i) => {
    info = i as Deno.ServeHandlerInfo<Deno.NetAddr>;
    return Promise.resolve(new Response("hello"));
  });
  const conn = await connect(port);
  await send(conn, rawGet("/", "Connection: close\r\n"));
  const result = await readUntilClose(conn, 5000);
  assert.equal(result.status, 200);
  assert.equal(info?.remoteAddr.hostname, "127.0.0.1");
  await info!.completed;
  await (await served).finished;
});

Deno.test("a handler that throws gets onError's answer", async () => {
  const { port, served } = serveNext(() => Promise.reject(new Error("boom")));
  const conn = await connect(port);
  await send(conn, rawGet("/", "Connection: close\r\n"));
  assert.equal((await readUntilClose(conn, 5000)).status, 500);
  await (await served).finished;
});

/**
 * Why a client that leaves while its response is awaited is noticed late on
 * a WebSocket listener (README, "WebSocket"): this engine aborts
 * `request.signal` only once writing the response fails, not when the peer
 * goes. If a runtime upgrade changes that, this test fails and the README
 * can say so.
 */
Deno.test("request.signal aborts only once the response to a departed client fails", async () => {
  let aborted = false;
  const respond = Promise.withResolvers<void>();
  const { port, served } = serveNext(async (request) => {
    request.signal.addEventListener("abort", () => aborted = true);
    await respond.promise;
    return new Response("late");
  });
  const conn = await connect(port);
  await send(conn, rawGet("/"));
  await new Promise((r) => setTimeout(r, 50));
  conn.close();
  await (await served).finished;
  assert.equal(aborted, false, "the engine now tells the handler at once: update the README");
  respond.resolve();
  for (let i = 0; i < 100 && !aborted; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(aborted);
});

Deno.test("shutdown() closes an idle keep-alive connection at once; abort closes a busy one", async (t) => {
  await t.step("idle", async () => {
    const { port, served } = serveNext(() => Promise.resolve(new Response("ok")));
    const conn = await connect(port);
    await send(conn, rawGet("/"));
    await conn.read(new Uint8Array(4096));
    const s = await served;
    s.shutdown();
    const after = await readUntilClose(conn, 5000);
    assert.deepEqual([after.closed, after.text], [true, ""]);
    await s.finished;
  });
  await t.step("busy, then aborted", async () => {
    const release = Promise.withResolvers<void>();
    const { port, abort, served } = serveNext(async () => {
      await release.promise;
      return new Response("ok");
    });
    const conn = await connect(port);
    await send(conn, rawGet("/"));
    const s = await served;
    await new Promise((r) => setTimeout(r, 50));
    s.shutdown();
    abort.abort();
    const after = await readUntilClose(conn, 5000);
    assert.ok(after.closed);
    release.resolve();
    await s.finished;
  });
});
