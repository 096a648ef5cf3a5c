/**
 * The relay's UDP socket on its own: datagrams leave in the order they were
 * sent, even on a new socket; the receive buffer is lent for the call only;
 * closing ends the receive loop without leaving an operation behind.
 */

import assert from "node:assert/strict";
import { type DatagramEvents, DatagramSocket } from "../../src/l4/udp/socket.ts";

const LOOPBACK: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { net: ["127.0.0.1"] },
};
const text = new TextEncoder();
const read = new TextDecoder();

/** A socket on 127.0.0.1 that keeps what it receives, as text, and the errors it hears. */
function collector(): {
  socket: DatagramSocket;
  got: string[];
  errors: Error[];
  arrived: (n: number) => Promise<void>;
} {
  const got: string[] = [];
  const errors: Error[] = [];
  const waiters: Array<() => void> = [];
  const events: DatagramEvents = {
    datagram(data) {
      got.push(read.decode(data));
      for (const w of waiters) w();
    },
    receiveFailed: (e) => errors.push(e),
    sendFailed: (e) => errors.push(e),
  };
  const socket = DatagramSocket.bind({ hostname: "127.0.0.1", port: 0 }, events);
  const arrived = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const guard = setTimeout(
        () => reject(new Error(`only ${got.length} of ${n} arrived`)),
        10_000,
      );
      const check = () => {
        if (got.length < n) return;
        clearTimeout(guard);
        waiters.splice(waiters.indexOf(check), 1);
        resolve();
      };
      waiters.push(check);
      check();
    });
  return { socket, got, errors, arrived };
}

Deno.test(
  "DatagramSocket sends back-to-back datagrams in order, even before the socket is known writable",
  LOOPBACK,
  async () => {
    const to = collector();
    const from = collector();
    try {
      const order = Array.from({ length: 20 }, (_, i) => `d${i}`);
      // A new socket: the runtime finishes these sends later, last first, unless queued.
      for (const d of order) assert.equal(from.socket.send(text.encode(d), to.socket.addr), true);
      await to.arrived(order.length);
      assert.deepEqual(to.got, order);
      assert.deepEqual([...to.errors, ...from.errors], []);
    } finally {
      await Promise.all([to.socket.close(), from.socket.close()]);
    }
  },
);

Deno.test(
  "DatagramSocket copies what it sends: the caller may reuse its buffer at once",
  LOOPBACK,
  async () => {
    const to = collector();
    const from = collector();
    try {
      const buffer = new Uint8Array(3);
      for (const d of ["abc", "def", "ghi"]) {
        buffer.set(text.encode(d));
        from.socket.send(buffer, to.socket.addr);
      }
      await to.arrived(3);
      assert.deepEqual(to.got, ["abc", "def", "ghi"]);
    } finally {
      await Promise.all([to.socket.close(), from.socket.close()]);
    }
  },
);

Deno.test(
  "DatagramSocket.close() ends the receive loop quietly, refuses later sends and frees the port",
  LOOPBACK,
  async () => {
    const { socket, errors } = collector();
    const { port } = socket.addr;
    const closed = socket.close();
    assert.equal(socket.close(), closed, "a second call returns the same promise");
    await closed;
    assert.equal(socket.send(text.encode("late"), socket.addr), false);
    assert.deepEqual(errors, [], "the cancelled receive is not an error");
    const again = DatagramSocket.bind({ hostname: "127.0.0.1", port }, {
      datagram() {},
      receiveFailed() {},
      sendFailed() {},
    });
    assert.equal(again.addr.port, port);
    await again.close();
  },
);

Deno.test("DatagramSocket.bind() names the address it cannot bind, and why", LOOPBACK, async () => {
  const { socket } = collector();
  try {
    assert.throws(
      () =>
        DatagramSocket.bind(socket.addr, { datagram() {}, receiveFailed() {}, sendFailed() {} }),
      new RegExp(`^Error: cannot bind udp 127\\.0\\.0\\.1:${socket.addr.port}: EADDRINUSE$`),
    );
  } finally {
    await socket.close();
  }
});
