import assert from "node:assert/strict";
import { cancelConnection, serveOnConnection } from "../../src/server/_serve_connection.ts";
import { connect, rawGet, readUntilClose, send } from "../_helpers/raw.ts";

Deno.test("this runtime serves connections individually (connection timeouts depend on it)", () => {
  assert.equal(
    typeof serveOnConnection(),
    "function",
    "Deno's internal serveHttpOnConnection is gone: after a runtime upgrade, " +
      "src/server/_serve_connection.ts needs another way to close connections",
  );
});

/** A listener whose next connection is served by the runtime's per-connection server. */
function serveNextConnection() {
  const serve = serveOnConnection()!;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const abort = new AbortController();
  const accepted = listener.accept().then((conn) =>
    serve(
      conn,
      abort.signal,
      () => Promise.resolve(new Response("ok")),
      () => new Response(),
      () => {},
    )
  );
  return { listener, abort, accepted };
}

Deno.test("cancelConnection() closes a live connection at once", async () => {
  const { listener, abort, accepted } = serveNextConnection();
  const client = await connect(listener.addr.port);
  await send(client, "GET / HTTP/1.1\r\nHost: x\r\n"); // headers never finished
  const served = await accepted;
  cancelConnection(abort);
  const result = await readUntilClose(client, 5000);
  assert.ok(result.closed);
  assert.equal(result.status, undefined);
  await served.finished.catch(() => {});
  listener.close();
});

Deno.test("cancelConnection() after the connection ended on its own does not bring the process down", async () => {
  const { listener, abort, accepted } = serveNextConnection();
  const client = await connect(listener.addr.port);
  await send(client, rawGet("/"));
  const result = await readUntilClose(client, 5000);
  assert.equal(result.status, 200);
  const served = await accepted;
  await served.finished;
  // The runtime's own abort listener now throws BadResource; it must be absorbed.
  cancelConnection(abort);
  listener.close();
});

/**
 * Why a slow request head on a reused keep-alive connection is bounded only
 * by `server.idle_timeout` (README, "Timeouts and connections"): after the
 * handoff the runtime's HTTP engine owns the socket, calls the handler only
 * once a head is complete, and its graceful shutdown treats a connection
 * holding part of the next head exactly like an idle one. If a runtime
 * upgrade changes any of this, this test fails and the limitation may be
 * liftable.
 */
Deno.test("the runtime gives no sign of a partly received head on a reused connection", async (t) => {
  const serve = serveOnConnection()!;
  const scenario = async (partial: string) => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const client = await connect(listener.addr.port);
    const conn = await listener.accept();
    listener.close();
    const abort = new AbortController();
    let handled = 0;
    const served = serve(
      conn,
      abort.signal,
      () => {
        handled++;
        return Promise.resolve(new Response("ok"));
      },
      () => new Response(),
      () => {},
    );
    await send(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const first = new Uint8Array(1024);
    await client.read(first);
    if (partial) await send(client, partial);
    // Let the bytes reach the engine (the whole point: nothing says they did).
    await new Promise((r) => setTimeout(r, 100));
    const handledBefore = handled;
    served.shutdown().catch(() => {});
    const after = await readUntilClose(client, 5000);
    cancelConnection(abort);
    await served.finished.catch(() => {});
    return { handledBefore, closed: after.closed, text: after.text };
  };
  const idle = await scenario("");
  const partial = await scenario("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaa");
  await t.step("the handler is not called for a partial head", () => {
    assert.equal(partial.handledBefore, 1);
  });
  await t.step("graceful shutdown closes both at once, sending nothing", () => {
    assert.deepEqual(idle, { handledBefore: 1, closed: true, text: "" });
    assert.deepEqual(partial, { handledBefore: 1, closed: true, text: "" });
  });
});
