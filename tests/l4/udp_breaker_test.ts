/**
 * UDP backends and their circuit breakers: silence where a reply was due
 * is a failure, a first reply a success, and a session a backend failed
 * moves to another. Real sockets on 127.0.0.1, a manual clock for time.
 */

import assert from "node:assert/strict";
import { ManualClock } from "../_helpers/clock.ts";
import {
  closedPort,
  startTaggingBackend,
  startTestRelay,
  startUdpBackend,
  UDP_TEST,
  type UdpClient,
  udpClient,
  udpPool,
  until,
} from "../_helpers/udp.ts";

const REPLY_TIMEOUT = 1_000;

const BREAKER = {
  load_balancing: { algorithm: "round_robin" },
  circuit_breaker: { failure_threshold: 2, success_threshold: 1, open_timeout: "60s" },
};

Deno.test(
  "an unreachable backend fails its sessions until its breaker opens; new sessions then go to the other",
  UDP_TEST,
  async (t) => {
    const deadPort = await closedPort();
    await using live = await startTaggingBackend("live");
    const clock = new ManualClock();
    const pool = await udpPool([`127.0.0.1:${deadPort}`, live.address], clock, BREAKER);
    const dead = pool.states[0]!;
    await using r = await startTestRelay(pool, clock, { replyTimeoutMs: REPLY_TIMEOUT });
    const clients: UdpClient[] = [];
    const newClient = async () => {
      const c = await udpClient();
      clients.push(c);
      return c;
    };
    try {
      await t.step(
        "a session on the silent backend fails it, then moves to the live one",
        async () => {
          let failures = 0;
          for (let i = 0; dead.breaker.state === "closed"; i++) {
            assert.ok(i < 10, "the breaker should have opened by now");
            const client = await newClient();
            const tries = dead.stats.requests;
            const sent = r.relay.stats.packetsToBackend;
            client.send(`q${i}`, r.port);
            await until(() => r.relay.stats.packetsToBackend === sent + 1, "forwarded");
            if (dead.stats.requests === tries) {
              assert.deepEqual(await client.texts(1), [`live|q${i}`]);
              continue;
            }
            // Silence (or, where the runtime reports it, ICMP unreachable) is a failure.
            clock.advance(REPLY_TIMEOUT);
            await until(() => r.relay.stats.upstreamFailures === failures + 1, "failure counted");
            failures++;
            client.send(`q${i} again`, r.port);
            assert.deepEqual(
              await client.texts(1),
              [`live|q${i} again`],
              "re-picked, not the dead one",
            );
          }
          assert.equal(failures, 2);
          assert.equal(dead.breaker.state, "open");
          assert.equal(dead.stats.errors, 2);
          assert.equal(dead.inFlight, 0, "failed sessions gave the dead backend back");
          assert.equal(pool.states[1]!.breaker.snapshot().consecutiveFailures, 0);
        },
      );

      await t.step(
        "while the breaker is open, every new session goes to the live backend",
        async () => {
          const tries = dead.stats.requests;
          for (let i = 0; i < 4; i++) {
            const client = await newClient();
            client.send(`fresh ${i}`, r.port);
            assert.deepEqual(await client.texts(1), [`live|fresh ${i}`]);
          }
          assert.equal(dead.stats.requests, tries);
        },
      );

      await t.step(
        "after the open timeout, a probe session that is answered closes it",
        async () => {
          await using _revived = await startTaggingBackend("revived", deadPort);
          clock.advance(60_000);
          assert.equal(dead.breaker.state, "half_open");
          for (let i = 0; dead.breaker.snapshot().state !== "closed"; i++) {
            assert.ok(i < 10, "the probe should have gone to the revived backend by now");
            const client = await newClient();
            client.send(`probe ${i}`, r.port);
            const [reply] = await client.texts(1);
            assert.match(reply!, /^(live|revived)\|probe/);
          }
          assert.equal(dead.breaker.snapshot().opens, 1);
        },
      );
    } finally {
      await Promise.all(clients.map((c) => c[Symbol.asyncDispose]()));
    }
  },
);

Deno.test(
  "with no reply timeout, a backend that never answers is never blamed",
  UDP_TEST,
  async () => {
    await using sink = await startUdpBackend("sink", () => undefined);
    const clock = new ManualClock();
    const pool = await udpPool([sink.address], clock, BREAKER);
    await using r = await startTestRelay(pool, clock, { sessionTimeoutMs: 30_000 });
    await using client = await udpClient();
    for (let i = 0; i < 3; i++) client.send(`log line ${i}`, r.port);
    await until(() => sink.received.length === 3, "one-way traffic arrives");
    clock.advance(30_000);
    assert.equal(r.relay.stats.sessionsExpired, 1);
    const state = pool.states[0]!;
    assert.deepEqual(
      { errors: state.stats.errors, breaker: state.breaker.state, inFlight: state.inFlight },
      { errors: 0, breaker: "closed", inFlight: 0 },
    );
    assert.equal(r.relay.stats.upstreamFailures, 0);
  },
);
