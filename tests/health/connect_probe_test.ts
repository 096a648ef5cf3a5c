/** `connectProbe()`: the connect check of TCP pools, against real sockets. */

import assert from "node:assert/strict";
import { connectProbe } from "../../src/health/mod.ts";

Deno.test("connectProbe() passes a backend that accepts, and closes the connection at once", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const probe = connectProbe(1000);
  const result = await probe(`tcp://127.0.0.1:${listener.addr.port}`, new AbortController().signal);
  assert.deepEqual(result, { ok: true, detail: "connected" });
  const conn = await accepted;
  assert.equal(await conn.read(new Uint8Array(1)), null, "closed without a byte sent");
  conn.close();
  listener.close();
});

Deno.test("connectProbe() fails a refused port, saying why", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const result = await connectProbe(1000)(`tcp://127.0.0.1:${port}`, new AbortController().signal);
  assert.equal(result.ok, false);
  assert.equal(result.inconclusive, undefined);
  assert.match(result.detail, /refused/i);
});

Deno.test("connectProbe() fails a backend that does not answer within the timeout", async () => {
  // A connect that only ends when aborted: the timeout is what ends it.
  const hang = (o: { signal?: AbortSignal }) =>
    new Promise<Deno.Conn>((_, reject) =>
      o.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))
    );
  const result = await connectProbe(20, hang)(
    "tcp://[2001:db8::1]:5432",
    new AbortController().signal,
  );
  assert.deepEqual(result, { ok: false, detail: "no connection within 20ms" });
});
