/**
 * The UDP relay with real sockets on 127.0.0.1: many clients at once,
 * session affinity, a real DNS exchange, the largest datagram both ways,
 * stray datagrams, and shutdown.
 */

import assert from "node:assert/strict";
import { systemClock } from "../../src/clock/mod.ts";
import { MAX_UDP_PAYLOAD } from "../../src/l4/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { dnsAnswer, dnsQuery, readAnswer, readQuestion } from "../_helpers/dns.ts";
import {
  startTaggingBackend,
  startTestRelay,
  startUdpBackend,
  UDP_TEST,
  udpClient,
  udpPool,
  until,
} from "../_helpers/udp.ts";

const CLIENTS = 50;
const ROUNDS = 20;

Deno.test(
  "50 clients at once each get only their own replies, all from the backend their session picked",
  UDP_TEST,
  async () => {
    await using a = await startTaggingBackend("a");
    await using b = await startTaggingBackend("b");
    await using c = await startTaggingBackend("c");
    const pool = await udpPool([a.address, b.address, c.address], systemClock);
    await using t = await startTestRelay(pool, systemClock);
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => udpClient()));
    try {
      const backendOf = await Promise.all(clients.map(async (client, i) => {
        const seen = new Set<string>();
        for (let round = 0; round < ROUNDS; round++) {
          // Unique per client and round: a reply meant for anyone else cannot pass.
          const payload = `client-${i}-round-${round}-${crypto.randomUUID()}`;
          client.send(payload, t.port);
          const [reply] = await client.texts(1);
          const [tag, echoed] = reply!.split("|");
          assert.equal(echoed, payload, `client ${i} got someone else's reply`);
          seen.add(tag!);
        }
        assert.equal(seen.size, 1, `client ${i} moved between backends: ${[...seen]}`);
        return [...seen][0]!;
      }));

      assert.equal(new Set(backendOf).size, 3, "the sessions were spread over every backend");
      const s = t.relay.snapshot();
      assert.equal(s.sessionsCreated, CLIENTS);
      assert.equal(s.activeSessions, CLIENTS);
      assert.equal(s.packetsToBackend, CLIENTS * ROUNDS);
      assert.equal(s.packetsToClient, CLIENTS * ROUNDS);
      assert.equal(
        s.bytesToClient - s.bytesToBackend,
        CLIENTS * ROUNDS * 2,
        "each reply adds a tag",
      );
      assert.deepEqual(Object.values(s.drops).filter((n) => n > 0), []);
      // One socket per session: each backend saw each of its clients from one port only.
      for (const backend of [a, b, c]) {
        const ports = new Map<string, Set<string>>();
        for (const { data, from } of backend.received) {
          const client = new TextDecoder().decode(data).split("-round-")[0]!;
          ports.set(client, (ports.get(client) ?? new Set()).add(from));
        }
        for (const [client, from] of ports) assert.equal(from.size, 1, `${client}: ${[...from]}`);
      }
      assert.equal(
        pool.states.reduce((n, s) => n + s.inFlight, 0),
        CLIENTS,
        "in flight = sessions",
      );
    } finally {
      await Promise.all(clients.map((client) => client[Symbol.asyncDispose]()));
    }
    await t.relay.shutdown(0);
    assert.equal(pool.states.reduce((n, s) => n + s.inFlight, 0), 0);
  },
);

Deno.test("a DNS query through the relay is answered with its own id", UDP_TEST, async () => {
  await using dns = await startUdpBackend("dns", (query) => {
    const question = readQuestion(query);
    return question?.name === "backend.example" ? dnsAnswer(query, "192.0.2.53") : undefined;
  });
  await using t = await startTestRelay(await udpPool([dns.address], systemClock), systemClock);
  await using client = await udpClient();
  for (const id of [0x1234, 0xbeef]) {
    client.send(dnsQuery(id, "backend.example"), t.port);
    assert.deepEqual(readAnswer(await client.next()), {
      id,
      rcode: 0,
      addresses: ["192.0.2.53"],
    });
  }
});

Deno.test("a 65,507-byte datagram passes byte for byte in both directions", UDP_TEST, async () => {
  const up = crypto.getRandomValues(new Uint8Array(MAX_UDP_PAYLOAD));
  const down = crypto.getRandomValues(new Uint8Array(MAX_UDP_PAYLOAD));
  await using big = await startUdpBackend("big", () => down);
  await using t = await startTestRelay(await udpPool([big.address], systemClock), systemClock);
  await using client = await udpClient();
  client.send(up, t.port);
  const reply = await client.next();
  assert.equal(big.received.length, 1);
  assert.deepEqual(new Uint8Array(big.received[0]!.data), up, "client → backend");
  assert.deepEqual(new Uint8Array(reply), down, "backend → client");
  assert.equal(t.relay.stats.bytesToBackend, MAX_UDP_PAYLOAD);
  assert.equal(t.relay.stats.bytesToClient, MAX_UDP_PAYLOAD);
});

Deno.test(
  "a datagram reaching a session's socket from anyone but its backend is dropped",
  UDP_TEST,
  async () => {
    await using echo = await startTaggingBackend("echo");
    await using t = await startTestRelay(await udpPool([echo.address], systemClock), systemClock);
    await using client = await udpClient();
    await using intruder = await udpClient();
    client.send("hello", t.port);
    assert.deepEqual(await client.texts(1), ["echo|hello"]);
    const sessionPort = Number(echo.received[0]!.from.split(":")[1]);
    intruder.send("injected", sessionPort);
    await until(() => t.relay.stats.drops.stray === 1, "the stray datagram is counted");
    client.send("again", t.port);
    assert.deepEqual(await client.texts(1), ["echo|again"], "nothing injected came first");
    assert.equal(client.pending, 0);
  },
);

Deno.test(
  "a backend named by host is resolved once per session; its replies pass the stray filter",
  // The name too: `--allow-net` must cover resolving it.
  {
    permissions: { net: ["127.0.0.1", "0.0.0.0", "localhost"], env: ["LOG_TOKENS", "LOG_STREAM"] },
  },
  async () => {
    await using echo = await startTaggingBackend("named");
    const port = Number(echo.address.split(":")[1]);
    const pool = await udpPool([`localhost:${port}`], systemClock);
    await using t = await startTestRelay(pool, systemClock);
    await using client = await udpClient();
    // Sent back to back: some wait in the session's queue while the name
    // resolves, and still leave in order.
    for (const payload of ["one", "two", "three"]) client.send(payload, t.port);
    assert.deepEqual(await client.texts(3), ["named|one", "named|two", "named|three"]);
    assert.equal(new Set(echo.received.map((r) => r.from)).size, 1, "one session socket");
    assert.equal(t.relay.stats.drops.stray, 0);
    assert.equal(t.relay.stats.upstreamFailures, 0);
  },
);

Deno.test(
  "shutdown() takes no new sessions, lets open ones finish, then closes every socket",
  UDP_TEST,
  async (t) => {
    await using echo = await startTaggingBackend("echo");
    const clock = new ManualClock();
    const pool = await udpPool([echo.address], clock);

    await t.step(
      "within the grace, open sessions still exchange; new clients are dropped",
      async () => {
        const r = await startTestRelay(pool, clock, { sessionTimeoutMs: 30_000 });
        await using old = await udpClient();
        await using late = await udpClient();
        old.send("before", r.port);
        assert.deepEqual(await old.texts(1), ["echo|before"]);
        let done = false;
        const closed = r.relay.shutdown(60_000).then(() => done = true);
        late.send("too late", r.port);
        await until(() => r.relay.stats.drops.draining === 1, "the new client is dropped");
        old.send("during", r.port);
        assert.deepEqual(await old.texts(1), ["echo|during"]);
        assert.equal(done, false);
        clock.advance(30_000); // idle: the last session expires before the grace ends
        await closed;
        assert.equal(r.relay.sessions, 0);
        assert.equal(pool.states[0]!.inFlight, 0);
        // The port is free again: the listener socket is really closed.
        await using again = await startTestRelay(pool, clock, { address: `127.0.0.1:${r.port}` });
        assert.equal(again.port, r.port);
      },
    );

    await t.step("at the end of the grace, sessions still talking are closed", async () => {
      const r = await startTestRelay(pool, clock);
      await using busy = await udpClient();
      busy.send("one", r.port);
      assert.deepEqual(await busy.texts(1), ["echo|one"]);
      const closed = r.relay.shutdown(5_000);
      clock.advance(5_000);
      await closed;
      assert.equal(r.relay.sessions, 0);
      assert.equal(r.relay.snapshot().sessionsClosed, 1);
      assert.equal(pool.states[0]!.inFlight, 0);
      assert.equal(r.relay.shutdown(0), closed, "a second call returns the same promise");
    });

    await t.step("binding a port in use fails, naming the address", async () => {
      await using first = await startTestRelay(pool, clock);
      await assert.rejects(
        startTestRelay(pool, clock, { address: `127.0.0.1:${first.port}` }),
        new RegExp(`cannot bind udp 127\\.0\\.0\\.1:${first.port}: EADDRINUSE`),
      );
    });
  },
);
