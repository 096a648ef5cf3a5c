import assert from "node:assert/strict";
import {
  encodeProxyV2,
  PROXY_V2_SIGNATURE,
  tcpRelay,
  type TcpRelayOptions,
} from "../../src/l4/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { Balancer, PickContext, Pool } from "../../src/pool/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { bytes, readAll, relayListener, tcpPool, writeFully } from "../_helpers/l4.ts";
import { until } from "../_helpers/load.ts";
import { type RawBackend, startRawBackend } from "../_helpers/raw.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** A backend that keeps everything each connection sent, until the client's FIN. */
function recordingBackend(): RawBackend & { received: Promise<Uint8Array>[] } {
  const received: Promise<Uint8Array>[] = [];
  const backend = startRawBackend(async (conn) => {
    const got = readAll(conn).then((r) => r.bytes);
    received.push(got);
    await got;
  });
  return Object.assign(backend, { received });
}

/** Records the client address every pick was made for. */
function recordingBalancer(seen: string[]): Balancer {
  return {
    name: "first_available",
    pick<C>(candidates: readonly C[], ctx?: PickContext) {
      seen.push(ctx?.clientIp ?? "-");
      return candidates[0];
    },
  };
}

function relayTo(pool: Pool, extra: Partial<TcpRelayOptions> = {}) {
  return tcpRelay({
    pool,
    poolName: "db",
    connectTimeoutMs: 5000,
    retries: 0,
    idleTimeoutMs: Infinity,
    logger: createLogger({ level: "debug", sink: () => {} }),
    ...extra,
  });
}

/** Connects, sends each of `writes` in its own write, ends its sending, reads to the end. */
async function session(port: number, ...writes: Uint8Array[]): Promise<Uint8Array> {
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  for (const w of writes) await writeFully(client, w);
  await client.closeWrite();
  const got = await readAll(client);
  client.close();
  return got.bytes;
}

Deno.test("tcpRelay() sends each backend the PROXY header it asks for, then the client's bytes", async (t) => {
  for (const version of ["v1", "v2"] as const) {
    await t.step(version, async () => {
      await using backend = recordingBackend();
      const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
      await using listener = relayListener(relayTo(pool, { proxyProtocol: version }));
      const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      const clientPort = client.localAddr.port;
      await writeFully(client, bytes("hello"));
      await client.closeWrite();
      await readAll(client);
      client.close();
      const got = await backend.received[0]!;
      if (version === "v1") {
        assert.equal(
          text(got),
          `PROXY TCP4 127.0.0.1 127.0.0.1 ${clientPort} ${listener.port}\r\nhello`,
        );
      } else {
        const port = (p: number) =>
          `${(p >> 8).toString(16).padStart(2, "0")} ${(p & 0xff).toString(16).padStart(2, "0")}`;
        assert.equal(
          hex(got),
          `${hex(PROXY_V2_SIGNATURE)} 21 11 00 0c 7f 00 00 01 7f 00 00 01 ` +
            `${port(clientPort)} ${port(listener.port)} ${hex(bytes("hello"))}`,
        );
      }
    });
  }
});

Deno.test("tcpRelay() takes the client from a trusted proxy's PROXY header", async (t) => {
  await t.step("v1, with the client's first bytes in the same packet", async () => {
    await using backend = recordingBackend();
    const picks: string[] = [];
    const pool = await tcpPool([`127.0.0.1:${backend.port}`], {
      balancer: recordingBalancer(picks),
    });
    const relay = relayTo(pool, {
      proxyProtocol: "v1",
      acceptProxyFrom: (ip) => ip === "127.0.0.1",
    });
    await using listener = relayListener(relay);
    await session(listener.port, bytes("PROXY TCP4 203.0.113.7 192.0.2.10 51000 443\r\nhello"));
    assert.equal(
      text(await backend.received[0]!),
      "PROXY TCP4 203.0.113.7 192.0.2.10 51000 443\r\nhello",
    );
    const outcome = await listener.outcome();
    assert.deepEqual(outcome.client, { ip: "203.0.113.7", port: 51000 });
    assert.equal(outcome.bytesToBackend, 5, "the header read is not counted as client bytes");
    assert.deepEqual(picks, ["203.0.113.7"], "affinity keys on the real client");
  });

  await t.step("v2 arriving in pieces, passed on as v1", async () => {
    await using backend = recordingBackend();
    const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
    const relay = relayTo(pool, { proxyProtocol: "v1", acceptProxyFrom: () => true });
    await using listener = relayListener(relay);
    const header = encodeProxyV2({ ip: "2001:db8::7", port: 40000 }, {
      ip: "2001:db8::1",
      port: 25,
    });
    const c = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    for (const piece of [header.subarray(0, 5), header.subarray(5, 20), header.subarray(20)]) {
      await writeFully(c, piece);
      // Each piece is its own read on the other side.
      await new Promise((r) => setTimeout(r, 5));
    }
    await writeFully(c, bytes("EHLO"));
    await c.closeWrite();
    await readAll(c);
    c.close();
    assert.equal(
      text(await backend.received[0]!),
      "PROXY TCP6 2001:db8::7 2001:db8::1 40000 25\r\nEHLO",
    );
  });

  await t.step("v2 LOCAL keeps the socket peer", async () => {
    await using backend = recordingBackend();
    const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
    await using listener = relayListener(relayTo(pool, { acceptProxyFrom: () => true }));
    await session(
      listener.port,
      Uint8Array.of(...PROXY_V2_SIGNATURE, 0x20, 0x00, 0x00, 0x00),
      bytes("x"),
    );
    assert.equal(text(await backend.received[0]!), "x");
    assert.equal((await listener.outcome()).client.ip, "127.0.0.1");
  });
});

Deno.test("tcpRelay() refuses a PROXY header from a client not trusted to send one", async (t) => {
  const cases: Array<[string, Uint8Array[]]> = [
    ["v1", [bytes("PROXY TCP4 203.0.113.7 192.0.2.10 51000 443\r\n")]],
    ["v1 split before the space", [bytes("PROX"), bytes("Y TCP4 ")]],
    ["v2 split inside the signature", [
      PROXY_V2_SIGNATURE.subarray(0, 7),
      PROXY_V2_SIGNATURE.subarray(7),
    ]],
  ];
  for (const [name, writes] of cases) {
    await t.step(name, async () => {
      await using backend = recordingBackend();
      const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
      await using listener = relayListener(relayTo(pool));
      const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      for (const w of writes) {
        await writeFully(client, w);
        await new Promise((r) => setTimeout(r, 5));
      }
      const got = await readAll(client);
      client.close();
      assert.equal(got.bytes.length, 0);
      assert.equal((await listener.outcome()).end, "proxy_header_refused");
      assert.equal((await backend.received[0]!).length, 0, "not one byte reached the backend");
    });
  }

  await t.step("bytes that only begin like a signature pass intact", async () => {
    await using backend = recordingBackend();
    const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
    await using listener = relayListener(relayTo(pool));
    await session(listener.port, bytes("PROX"), bytes("IMITY\r\n"), bytes("\r\n"));
    assert.equal(text(await backend.received[0]!), "PROXIMITY\r\n\r\n");
    assert.equal((await listener.outcome()).end, "client_closed");
  });
});

Deno.test("tcpRelay() closes a trusted peer's connection that brings no valid PROXY header", async (t) => {
  await t.step("other bytes instead", async () => {
    await using backend = recordingBackend();
    const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
    await using listener = relayListener(relayTo(pool, { acceptProxyFrom: () => true }));
    await session(listener.port, bytes("GET / HTTP/1.1\r\n\r\n"));
    const outcome = await listener.outcome();
    assert.equal(outcome.end, "proxy_header_invalid");
    assert.match(outcome.detail ?? "", /not a PROXY protocol header/);
    assert.equal(backend.accepted, 0, "no backend connection was opened");
  });

  await t.step("an oversized v2 header, refused on its fixed part", async () => {
    await using backend = recordingBackend();
    const pool = await tcpPool([`127.0.0.1:${backend.port}`]);
    await using listener = relayListener(relayTo(pool, { acceptProxyFrom: () => true }));
    await session(listener.port, Uint8Array.of(...PROXY_V2_SIGNATURE, 0x21, 0x11, 0xff, 0xff));
    assert.match((await listener.outcome()).detail ?? "", /65535 bytes/);
  });

  await t.step("nothing at all, until the header timeout", async () => {
    const clock = new ManualClock();
    await using backend = recordingBackend();
    const pool = await tcpPool([`127.0.0.1:${backend.port}`], { clock });
    const relay = relayTo(pool, { clock, acceptProxyFrom: () => true, headerTimeoutMs: 3000 });
    await using listener = relayListener(relay);
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    await until(() => clock.pending > 0, "the relay waits for the header");
    clock.advance(3000);
    const got = await readAll(client);
    client.close();
    assert.equal(got.bytes.length, 0);
    assert.equal((await listener.outcome()).end, "proxy_header_timeout");
    assert.equal(backend.accepted, 0);
  });
});
