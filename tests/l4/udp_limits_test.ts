/**
 * What bounds a UDP relay: idle expiry and eviction of its session table
 * (on a manual clock), the rate limit and allow/deny hooks, and changes
 * to both on reload. Real sockets on 127.0.0.1.
 */

import assert from "node:assert/strict";
import { ManualClock } from "../_helpers/clock.ts";
import {
  startTaggingBackend,
  startTestRelay,
  UDP_TEST,
  type UdpBackend,
  udpClient,
  udpPool,
  until,
} from "../_helpers/udp.ts";

/** The port the backend saw a client's `payload` come from: the session's own socket. */
function sessionPortOf(backend: UdpBackend, payload: string): string {
  const hit = backend.received.find((r) => new TextDecoder().decode(r.data) === payload);
  assert.ok(hit, `the backend never got ${payload}`);
  return hit.from;
}

Deno.test(
  "a session idle for sessionTimeoutMs is closed, and the next datagram opens a new one",
  UDP_TEST,
  async () => {
    await using echo = await startTaggingBackend("echo");
    const clock = new ManualClock();
    const pool = await udpPool([echo.address], clock);
    await using t = await startTestRelay(pool, clock, { sessionTimeoutMs: 30_000 });
    await using client = await udpClient();

    client.send("first", t.port);
    assert.deepEqual(await client.texts(1), ["echo|first"]);
    clock.advance(29_999);
    assert.equal(t.relay.sessions, 1, "not idle long enough yet");
    clock.advance(1);
    assert.equal(t.relay.sessions, 0);
    assert.equal(t.relay.stats.sessionsExpired, 1);
    assert.equal(pool.states[0]!.inFlight, 0, "the backend is given back");

    client.send("second", t.port);
    assert.deepEqual(await client.texts(1), ["echo|second"]);
    assert.equal(t.relay.stats.sessionsCreated, 2);
    assert.notEqual(
      sessionPortOf(echo, "second"),
      sessionPortOf(echo, "first"),
      "a new session has a new socket",
    );
  },
);

Deno.test("traffic either way keeps a session alive", UDP_TEST, async () => {
  await using echo = await startTaggingBackend("echo");
  const clock = new ManualClock();
  await using t = await startTestRelay(await udpPool([echo.address], clock), clock, {
    sessionTimeoutMs: 10_000,
  });
  await using client = await udpClient();
  for (let i = 0; i < 3; i++) {
    client.send(`ping ${i}`, t.port);
    assert.deepEqual(await client.texts(1), [`echo|ping ${i}`]);
    clock.advance(9_000);
  }
  assert.equal(t.relay.sessions, 1);
  assert.equal(t.relay.stats.sessionsExpired, 0);
  assert.equal(t.relay.stats.sessionsCreated, 1);
});

Deno.test(
  "at maxSessions the least recently active session is evicted, and counted",
  UDP_TEST,
  async () => {
    await using echo = await startTaggingBackend("echo");
    const clock = new ManualClock();
    await using t = await startTestRelay(await udpPool([echo.address], clock), clock, {
      maxSessions: 2,
    });
    await using a = await udpClient();
    await using b = await udpClient();
    await using c = await udpClient();
    a.send("a1", t.port);
    assert.deepEqual(await a.texts(1), ["echo|a1"]);
    b.send("b1", t.port);
    assert.deepEqual(await b.texts(1), ["echo|b1"]);
    a.send("a2", t.port); // a is now the more recently active
    assert.deepEqual(await a.texts(1), ["echo|a2"]);

    c.send("c1", t.port);
    assert.deepEqual(await c.texts(1), ["echo|c1"]);
    assert.equal(t.relay.sessions, 2);
    assert.equal(t.relay.stats.sessionsEvicted, 1);
    a.send("a3", t.port);
    assert.deepEqual(await a.texts(1), ["echo|a3"]);
    assert.equal(sessionPortOf(echo, "a3"), sessionPortOf(echo, "a1"), "a kept its session");
    assert.equal(t.relay.stats.sessionsCreated, 3, "b was the one evicted");
    assert.equal(
      t.events.recent().filter((e) => e.kind === "udp").length,
      1,
      "one event per episode",
    );
    assert.ok(
      t.logs.some((l) => l.msg === "udp session table full: evicting the least recently active"),
    );

    t.relay.setLimits({ maxSessions: 1 });
    assert.equal(t.relay.sessions, 1, "a lower limit evicts at once");
    assert.equal(t.relay.stats.sessionsEvicted, 2);
  },
);

Deno.test("the rate limit hook drops a client's datagrams, counted", UDP_TEST, async () => {
  await using echo = await startTaggingBackend("echo");
  const clock = new ManualClock();
  const seen: Array<[string, number]> = [];
  let budget = 2;
  await using t = await startTestRelay(await udpPool([echo.address], clock), clock, {
    allowPacket: (ip, now) => {
      seen.push([ip, now]);
      return budget-- > 0;
    },
  });
  await using client = await udpClient();
  for (const payload of ["one", "two"]) {
    client.send(payload, t.port);
    assert.deepEqual(await client.texts(1), [`echo|${payload}`]);
  }
  client.send("three", t.port);
  client.send("four", t.port);
  await until(() => t.relay.stats.drops.rate_limited === 2, "both dropped");
  assert.equal(echo.received.length, 2);
  assert.deepEqual(seen[0], ["127.0.0.1", clock.now()], "the hook gets the client's ip and now");
  assert.equal(t.relay.stats.packetsToBackend, 2);
});

Deno.test(
  "the accept hook refuses a client's sessions, counted; a reload revokes open ones",
  UDP_TEST,
  async (t) => {
    await using echo = await startTaggingBackend("echo");
    const clock = new ManualClock();
    const pool = await udpPool([echo.address], clock);

    await t.step("a denied client opens no session and reaches no backend", async () => {
      await using r = await startTestRelay(pool, clock, { accept: (ip) => ip !== "127.0.0.1" });
      await using client = await udpClient();
      client.send("let me in", r.port);
      client.send("please", r.port);
      await until(() => r.relay.stats.drops.denied === 2, "both dropped");
      assert.equal(r.relay.sessions, 0);
      assert.equal(echo.received.length, 0);
    });

    await t.step("setFilters() closes the sessions of clients no longer accepted", async () => {
      await using r = await startTestRelay(pool, clock);
      await using client = await udpClient();
      client.send("hello", r.port);
      assert.deepEqual(await client.texts(1), ["echo|hello"]);
      r.relay.setFilters({ accept: () => false });
      assert.equal(r.relay.sessions, 0);
      assert.equal(r.relay.stats.sessionsRevoked, 1);
      assert.equal(pool.states[0]!.inFlight, 0);
      client.send("still there?", r.port);
      await until(() => r.relay.stats.drops.denied === 1, "dropped");
    });
  },
);

Deno.test(
  "on reload, new limits and a new pool apply to the sessions already open",
  UDP_TEST,
  async (t) => {
    await using a = await startTaggingBackend("a");
    await using b = await startTaggingBackend("b");
    const clock = new ManualClock();

    await t.step("a shorter session timeout expires sessions sooner", async () => {
      await using r = await startTestRelay(await udpPool([a.address], clock), clock);
      await using client = await udpClient();
      client.send("hi", r.port);
      assert.deepEqual(await client.texts(1), ["a|hi"]);
      r.relay.setLimits({ sessionTimeoutMs: 5_000 });
      clock.advance(5_000);
      assert.equal(r.relay.sessions, 0);
      assert.equal(r.relay.stats.sessionsExpired, 1);
    });

    await t.step(
      "setPool(): a session whose backend left the pool moves on at its next datagram",
      async () => {
        const before = await udpPool([a.address], clock);
        await using r = await startTestRelay(before, clock);
        await using client = await udpClient();
        client.send("one", r.port);
        assert.deepEqual(await client.texts(1), ["a|one"]);
        const after = await udpPool([b.address], clock);
        r.relay.setPool(after);
        assert.equal(before.states[0]!.inFlight, 0, "the old backend is given back at once");
        client.send("two", r.port);
        assert.deepEqual(await client.texts(1), ["b|two"]);
        assert.equal(r.relay.sessions, 1, "the same session, another backend");
        assert.equal(r.relay.stats.sessionsCreated, 1);
      },
    );
  },
);
