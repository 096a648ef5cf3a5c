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
