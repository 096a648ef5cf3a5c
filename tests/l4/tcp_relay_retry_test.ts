import assert from "node:assert/strict";
import {
  type BackendConnect,
  denoConnect,
  tcpRelay,
  type TcpRelayOptions,
} from "../../src/l4/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { Pool } from "../../src/pool/mod.ts";
import { attemptCounts, FAILED_ONCE, ONCE } from "../_helpers/attempts.ts";
import { ManualClock } from "../_helpers/clock.ts";
import {
  bytes,
  echo,
  readAll,
  readExactly,
  relayListener,
  tcpPool,
  writeFully,
} from "../_helpers/l4.ts";
import { until } from "../_helpers/load.ts";
import { startRawBackend } from "../_helpers/raw.ts";

/** The black-hole address passes the SSRF check: the injected connect never reaches it. */
const BLACK_HOLE_ALLOWED = { security: { allowed_backend_networks: ["10.255.255.1/32"] } };

const UNTRIED = { requests: 0, inFlight: 0, errors: 0, failuresInARow: 0, breaker: "closed" };

/** A port nothing listens on: bound, read back, released. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/**
 * Connects as Deno does, except to `silent` hosts, which never answer: the
 * attempt only ends when its signal aborts (the connect timeout or the
 * shutdown), as a SYN into a black hole does. `started` resolves when the
 * first such attempt begins.
 */
function withBlackHole(silent: string) {
  const started = Promise.withResolvers<void>();
  const connect: BackendConnect = (target) => {
    if (target.hostname !== silent) return denoConnect(target);
    started.resolve();
    return new Promise((_, reject) => {
      target.signal.addEventListener("abort", () => reject(target.signal.reason), { once: true });
    });
  };
  return { connect, started: started.promise };
}

function relayTo(pool: Pool, lines: string[], extra: Partial<TcpRelayOptions> = {}) {
  return tcpRelay({
    pool,
    poolName: "db",
    connectTimeoutMs: 5000,
    retries: 1,
    idleTimeoutMs: Infinity,
    logger: createLogger({ level: "debug", sink: (l) => lines.push(l) }),
    ...extra,
  });
}

/** Sends `ping` through the relay and expects it echoed. */
async function pingThrough(port: number): Promise<void> {
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeFully(client, bytes("ping"));
  assert.deepEqual(await readExactly(client, 4), bytes("ping"));
  await client.closeWrite();
  await readAll(client);
  client.close();
}

Deno.test("tcpRelay() tries the next backend when a connect times out", async () => {
  const clock = new ManualClock();
  await using good = startRawBackend(echo);
  const pool = await tcpPool(["10.255.255.1:5432", `127.0.0.1:${good.port}`], {
    clock,
    overrides: BLACK_HOLE_ALLOWED,
  });
  const hole = withBlackHole("10.255.255.1");
  const lines: string[] = [];
  await using listener = relayListener(relayTo(pool, lines, { clock, connect: hole.connect }));
  const client = pingThrough(listener.port);
  await hole.started;
  clock.advance(4999);
  assert.equal(good.accepted, 0, "still waiting for the first backend");
  clock.advance(1);
  await client;
  const outcome = await listener.outcome();
  assert.equal(outcome.backend, `127.0.0.1:${good.port}`);
  assert.equal(outcome.retries, 1);
  assert.equal(outcome.end, "client_closed");
  assert.deepEqual(attemptCounts(pool.states[0]!), FAILED_ONCE);
  assert.deepEqual(attemptCounts(pool.states[1]!), ONCE);
  assert.ok(lines.some((l) => l.includes("backend connect failed") && l.includes("timed out")));
});

/**
 * Fills the accept queue of a listener nobody accepts from, until a new
 * connect hangs (the kernel drops its SYN): a backend that never answers,
 * on loopback. Returns the queued connections, for the caller to close.
 */
async function fillAcceptQueue(port: number): Promise<Deno.TcpConn[]> {
  const queued: Deno.TcpConn[] = [];
  for (let i = 0; i < 20_000; i++) {
    const giveUp = new AbortController();
    const timer = setTimeout(() => giveUp.abort(), 200);
    try {
      queued.push(await Deno.connect({ hostname: "127.0.0.1", port, signal: giveUp.signal }));
    } catch {
      return queued;
    } finally {
      clearTimeout(timer);
    }
  }
  for (const conn of queued) conn.close();
  throw new Error("the accept queue never filled up");
}

Deno.test("tcpRelay() times out a real connect to a backend that never answers", async () => {
  const clock = new ManualClock();
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const queued = await fillAcceptQueue(silent.addr.port);
  try {
    await using good = startRawBackend(echo);
    const pool = await tcpPool([`127.0.0.1:${silent.addr.port}`, `127.0.0.1:${good.port}`], {
      clock,
    });
    await using listener = relayListener(relayTo(pool, [], { clock }));
    const client = pingThrough(listener.port);
    // Deno.connect is waiting on the dropped SYN; its timer is the only one.
    await until(() => clock.pending > 0, "the relay is connecting");
    clock.advance(5000);
    await client;
    const outcome = await listener.outcome();
    assert.equal(outcome.backend, `127.0.0.1:${good.port}`);
    assert.deepEqual(attemptCounts(pool.states[0]!), FAILED_ONCE);
  } finally {
    for (const conn of queued) conn.close();
    silent.close();
  }
});

Deno.test("tcpRelay() tries the next backend when a connect is refused", async () => {
  await using good = startRawBackend(echo);
  const pool = await tcpPool([`127.0.0.1:${closedPort()}`, `127.0.0.1:${good.port}`]);
  await using listener = relayListener(relayTo(pool, []));
  await pingThrough(listener.port);
  const outcome = await listener.outcome();
  assert.equal(outcome.backend, `127.0.0.1:${good.port}`);
  assert.equal(outcome.retries, 1);
  assert.deepEqual(attemptCounts(pool.states[0]!), FAILED_ONCE);
  assert.deepEqual(attemptCounts(pool.states[1]!), ONCE);
});

Deno.test("tcpRelay() closes the client when no backend can be connected", async (t) => {
  await t.step("it tries at most 1 + retries backends, none twice", async () => {
    const pool = await tcpPool([1, 2, 3].map(() => `127.0.0.1:${closedPort()}`));
    const lines: string[] = [];
    await using listener = relayListener(relayTo(pool, lines, { retries: 1 }));
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    const got = await readAll(client);
    client.close();
    assert.equal(got.bytes.length, 0);
    const outcome = await listener.outcome();
    assert.equal(outcome.end, "no_backend");
    assert.equal(outcome.backend, undefined);
    assert.equal(outcome.retries, 1);
    assert.match(outcome.detail ?? "", /ConnectionRefused/);
    assert.deepEqual(pool.states.map(attemptCounts), [FAILED_ONCE, FAILED_ONCE, UNTRIED]);
    assert.ok(lines.some((l) => l.includes("connection closed: no backend")));
  });

  await t.step("a backend whose breaker is open is not tried at all", async () => {
    const pool = await tcpPool([`127.0.0.1:${closedPort()}`], {
      overrides: { circuit_breaker: { failure_threshold: 1 } },
    });
    await using listener = relayListener(relayTo(pool, []));
    for (const index of [0, 1]) {
      const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      await readAll(client);
      client.close();
      assert.equal((await listener.outcome(index)).end, "no_backend");
      assert.deepEqual(attemptCounts(pool.states[0]!), { ...FAILED_ONCE, breaker: "open" });
    }
    assert.equal(listener.outcomes[1]?.detail, undefined, "no connect was tried the second time");
  });
});

Deno.test("tcpRelay() gives up a connect in progress when its signal fires, blaming no backend", async () => {
  const pool = await tcpPool(["10.255.255.1:5432"], { overrides: BLACK_HOLE_ALLOWED });
  const hole = withBlackHole("10.255.255.1");
  await using listener = relayListener(relayTo(pool, [], { connect: hole.connect }));
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  await hole.started;
  listener.abort();
  await readAll(client);
  client.close();
  const outcome = await listener.outcome();
  assert.equal(outcome.end, "aborted");
  assert.deepEqual(attemptCounts(pool.states[0]!), ONCE);
});
