/**
 * A WebSocket backend that misbehaves on purpose: it accepts the handshake
 * by hand over a raw socket, then drops the connection without a close
 * frame when the first message arrives, as a killed process would.
 *
 * @module
 */

import { send } from "./raw.ts";

/** A backend that dies mid-session; `done` settles once it has. */
export interface DyingBackend {
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  readonly done: Promise<void>;
}

/** The `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2). */
async function acceptFor(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/**
 * Starts a backend whose first WebSocket session dies at its first
 * message; anything else it is sent (health probes) gets an empty `200`.
 */
export function dyingBackend(): DyingBackend {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    for (;;) {
      const conn = await listener.accept();
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1];
      if (key === undefined) {
        await send(conn, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        conn.close();
        continue;
      }
      await send(
        conn,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${await acceptFor(key)}\r\n\r\n`,
      );
      // Killed mid-session: the first message never gets an answer, nor a close frame.
      await conn.read(buf);
      conn.close();
      listener.close();
      return;
    }
  })();
  return { url: `http://127.0.0.1:${listener.addr.port}`, done };
}

/**
 * Sends `count` messages on `ws` to an echoing peer, text and binary in
 * turn (`m0`, then the index as two bytes, …), and resolves with what came
 * back, each binary echo read back as its index. In order, that is
 * `m0, 1, m2, 3, …`.
 */
export async function echoMessages(ws: WebSocket, count: number): Promise<(string | number)[]> {
  const got: (string | number)[] = [];
  const all = Promise.withResolvers<void>();
  ws.onmessage = (e) => {
    const bytes = typeof e.data === "string" ? undefined : new Uint8Array(e.data);
    got.push(bytes ? bytes[0]! * 256 + bytes[1]! : e.data);
    if (got.length === count) all.resolve();
  };
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) ws.send(`m${i}`);
    else ws.send(new Uint8Array([i >> 8, i & 255]));
  }
  await all.promise;
  return got;
}
