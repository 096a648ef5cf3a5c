import assert from "node:assert/strict";
import { Watchdog } from "../../src/clock/mod.ts";
import { type CloseReason, ConnectionState } from "../../src/server/connection.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

const FIRST_REQUEST_MS = 5_000;
const IDLE_MS = 60_000;

/** A connection on a manual clock (100 ms sweeps), recording why it closed. */
function setup() {
  const clock = new ManualClock();
  const dog = new Watchdog({ clock, tickMs: 100 });
  const closes: CloseReason[] = [];
  const conn = new ConnectionState(
    (onExpire) => dog.watch(onExpire),
    { firstRequestMs: FIRST_REQUEST_MS, idleMs: IDLE_MS },
    (reason) => closes.push(reason),
  );
  return { clock, dog, conn, closes };
}

Deno.test("ConnectionState closes a connection that sends no request in time", none, async (t) => {
  const { clock, dog, conn, closes } = setup();
  await t.step("still open just before the first-request timeout", () => {
    clock.advance(FIRST_REQUEST_MS - 1);
    assert.deepEqual(closes, []);
    assert.equal(conn.closed, false);
  });
  await t.step("closed with first_request_timeout at the timeout", () => {
    clock.advance(1);
    assert.deepEqual(closes, ["first_request_timeout"]);
    assert.equal(conn.closed, true);
  });
  await t.step("the deadline is released", () => {
    assert.equal(dog.size, 0);
    assert.equal(clock.pending, 0);
  });
  dog[Symbol.dispose]();
});

Deno.test("ConnectionState: a request start disarms the first-request timeout", none, () => {
  const { clock, dog, conn, closes } = setup();
  clock.advance(FIRST_REQUEST_MS - 1);
  conn.requestStarted();
  assert.equal(conn.active, 1);
  clock.advance(10 * IDLE_MS); // a long request is the body guards' business
  assert.deepEqual(closes, []);
  assert.equal(clock.pending, 0);
  dog[Symbol.dispose]();
});

Deno.test(
  "ConnectionState closes an idle connection after idleMs with idle_timeout",
  none,
  async (t) => {
    const { clock, dog, conn, closes } = setup();
    conn.requestStarted();
    clock.advance(1_000);
    conn.requestEnded();
    await t.step("the first-request timeout no longer applies", () => {
      clock.advance(FIRST_REQUEST_MS);
      assert.deepEqual(closes, []);
    });
    await t.step("the idle timeout counts from the end of the request", () => {
      clock.advance(IDLE_MS - FIRST_REQUEST_MS - 1);
      assert.deepEqual(closes, []);
      clock.advance(1);
      assert.deepEqual(closes, ["idle_timeout"]);
      assert.equal(conn.closed, true);
    });
    dog[Symbol.dispose]();
  },
);

Deno.test("ConnectionState: the next request restarts the idle countdown", none, () => {
  const { clock, dog, conn, closes } = setup();
  conn.requestStarted();
  conn.requestEnded();
  clock.advance(IDLE_MS - 100);
  conn.requestStarted();
  clock.advance(IDLE_MS);
  assert.deepEqual(closes, []);
  conn.requestEnded();
  clock.advance(IDLE_MS - 100);
  assert.deepEqual(closes, []);
  clock.advance(100);
  assert.deepEqual(closes, ["idle_timeout"]);
  dog[Symbol.dispose]();
});

Deno.test(
  "ConnectionState arms the idle timeout only when all concurrent requests ended",
  none,
  async (t) => {
    const { clock, dog, conn, closes } = setup();
    conn.requestStarted();
    conn.requestStarted();
    conn.requestStarted();
    assert.equal(conn.active, 3);
    await t.step("two of three ended: still no deadline", () => {
      conn.requestEnded();
      conn.requestEnded();
      assert.equal(conn.active, 1);
      clock.advance(2 * IDLE_MS);
      assert.deepEqual(closes, []);
      assert.equal(dog.size, 0);
    });
    await t.step("the last one ended: idle countdown starts", () => {
      conn.requestEnded();
      assert.equal(conn.active, 0);
      clock.advance(IDLE_MS);
      assert.deepEqual(closes, ["idle_timeout"]);
    });
    dog[Symbol.dispose]();
  },
);

Deno.test("ConnectionState: an extra requestEnded() does not make active negative", none, () => {
  const { dog, conn } = setup();
  conn.requestStarted();
  conn.requestEnded();
  conn.requestEnded();
  assert.equal(conn.active, 0);
  conn.requestStarted();
  assert.equal(conn.active, 1);
  dog[Symbol.dispose]();
});

Deno.test(
  "ConnectionState.drain() closes an idle connection at once with drained",
  none,
  async (t) => {
    await t.step("before any request", () => {
      const { dog, conn, closes } = setup();
      conn.drain();
      assert.deepEqual(closes, ["drained"]);
      assert.equal(conn.draining, true);
      assert.equal(conn.closed, true);
      assert.equal(dog.size, 0);
      dog[Symbol.dispose]();
    });
    await t.step("between requests", () => {
      const { dog, conn, closes } = setup();
      conn.requestStarted();
      conn.requestEnded();
      conn.drain();
      assert.deepEqual(closes, ["drained"]);
      dog[Symbol.dispose]();
    });
  },
);

Deno.test(
  "ConnectionState.drain() while requests run closes when the last one ends",
  none,
  async (t) => {
    const { clock, dog, conn, closes } = setup();
    conn.requestStarted();
    conn.requestStarted();
    conn.drain();
    await t.step("draining but open while requests run", () => {
      assert.equal(conn.draining, true);
      assert.equal(conn.closed, false);
      assert.deepEqual(closes, []);
    });
    await t.step("one request ends: still open", () => {
      conn.requestEnded();
      assert.deepEqual(closes, []);
    });
    await t.step("the last request ends: closed with drained, no idle timeout", () => {
      conn.requestEnded();
      assert.deepEqual(closes, ["drained"]);
      clock.advance(2 * IDLE_MS);
      assert.deepEqual(closes, ["drained"]);
    });
    dog[Symbol.dispose]();
  },
);

Deno.test(
  "ConnectionState.closeAfterResponse() closes with drained once the running requests end",
  none,
  () => {
    const { clock, dog, conn, closes } = setup();
    conn.requestStarted();
    conn.requestStarted();
    conn.closeAfterResponse();
    assert.equal(conn.draining, true);
    conn.requestEnded();
    assert.deepEqual(closes, []);
    conn.requestEnded();
    assert.deepEqual(closes, ["drained"]);
    clock.advance(2 * IDLE_MS);
    assert.deepEqual(closes, ["drained"]);
    dog[Symbol.dispose]();
  },
);

Deno.test(
  "ConnectionState.force() closes at once with forced, whatever is running",
  none,
  async (t) => {
    await t.step("with requests running", () => {
      const { dog, conn, closes } = setup();
      conn.requestStarted();
      conn.force();
      assert.deepEqual(closes, ["forced"]);
      assert.equal(conn.closed, true);
      dog[Symbol.dispose]();
    });
    await t.step("while draining", () => {
      const { dog, conn, closes } = setup();
      conn.requestStarted();
      conn.drain();
      conn.force();
      assert.deepEqual(closes, ["forced"]);
      dog[Symbol.dispose]();
    });
    await t.step("before any request", () => {
      const { clock, dog, conn, closes } = setup();
      conn.force();
      clock.advance(FIRST_REQUEST_MS);
      assert.deepEqual(closes, ["forced"]);
      assert.equal(dog.size, 0);
      dog[Symbol.dispose]();
    });
  },
);

Deno.test("ConnectionState calls close at most once", none, async (t) => {
  await t.step("timeout, then drain, force and request end", () => {
    const { clock, dog, conn, closes } = setup();
    clock.advance(FIRST_REQUEST_MS);
    conn.drain();
    conn.force();
    conn.requestStarted();
    conn.requestEnded();
    clock.advance(2 * IDLE_MS);
    assert.deepEqual(closes, ["first_request_timeout"]);
    dog[Symbol.dispose]();
  });
  await t.step("force twice", () => {
    const { dog, conn, closes } = setup();
    conn.force();
    conn.force();
    assert.deepEqual(closes, ["forced"]);
    dog[Symbol.dispose]();
  });
  await t.step("drain, last request ends, then force", () => {
    const { dog, conn, closes } = setup();
    conn.requestStarted();
    conn.drain();
    conn.requestEnded();
    conn.force();
    conn.drain();
    assert.deepEqual(closes, ["drained"]);
    dog[Symbol.dispose]();
  });
  await t.step("a request ending after a forced close arms nothing", () => {
    const { clock, dog, conn, closes } = setup();
    conn.requestStarted();
    conn.force();
    conn.requestEnded();
    assert.equal(dog.size, 0);
    clock.advance(2 * IDLE_MS);
    assert.deepEqual(closes, ["forced"]);
    dog[Symbol.dispose]();
  });
});

Deno.test("ConnectionState.dispose() releases the deadline without calling close", none, () => {
  const { clock, dog, conn, closes } = setup();
  conn.dispose();
  assert.equal(conn.closed, true);
  assert.equal(dog.size, 0);
  clock.advance(2 * IDLE_MS);
  conn.force();
  conn.drain();
  assert.deepEqual(closes, []);
  dog[Symbol.dispose]();
});

const GRACE_MS = 1000;

Deno.test(
  "ConnectionState.drain(grace) keeps an idle connection open for the grace, then closes it",
  none,
  async (t) => {
    for (const when of ["between requests", "before any request"] as const) {
      await t.step(when, () => {
        const { clock, dog, conn, closes } = setup();
        if (when === "between requests") {
          conn.requestStarted();
          conn.requestEnded();
        }
        conn.drain(GRACE_MS);
        assert.equal(conn.draining, true);
        clock.advance(GRACE_MS - 1);
        assert.deepEqual(closes, [], "a request may still be on its way");
        clock.advance(1);
        assert.deepEqual(closes, ["drained"]);
        assert.equal(dog.size, 0);
        dog[Symbol.dispose]();
      });
    }
  },
);

Deno.test(
  "ConnectionState: a request arriving in the drain grace is served, then the connection closes",
  none,
  () => {
    const { clock, dog, conn, closes } = setup();
    conn.requestStarted();
    conn.requestEnded();
    conn.drain(GRACE_MS);
    clock.advance(GRACE_MS / 2);
    conn.requestStarted();
    assert.equal(conn.draining, true, "its response announces the close");
    conn.closeAfterResponse();
    clock.advance(10 * GRACE_MS);
    assert.deepEqual(closes, [], "the grace no longer runs while it is served");
    conn.requestEnded();
    assert.deepEqual(closes, ["drained"], "closed as soon as the announced response ends");
    dog[Symbol.dispose]();
  },
);

Deno.test(
  "ConnectionState: a response under way when draining starts is followed by the grace",
  none,
  async (t) => {
    await t.step("its response had no Connection: close: the client may reuse it", () => {
      const { clock, dog, conn, closes } = setup();
      conn.requestStarted();
      conn.drain(GRACE_MS);
      conn.requestEnded();
      assert.deepEqual(closes, []);
      clock.advance(GRACE_MS);
      assert.deepEqual(closes, ["drained"]);
      dog[Symbol.dispose]();
    });
    await t.step("its response announced the close: closed when it ends", () => {
      const { dog, conn, closes } = setup();
      conn.requestStarted();
      conn.drain(GRACE_MS);
      conn.closeAfterResponse();
      conn.requestEnded();
      assert.deepEqual(closes, ["drained"]);
      dog[Symbol.dispose]();
    });
  },
);

Deno.test("ConnectionState: draining twice keeps the first grace", none, () => {
  const { clock, dog, conn, closes } = setup();
  conn.drain(GRACE_MS);
  conn.drain(10 * GRACE_MS);
  clock.advance(GRACE_MS);
  assert.deepEqual(closes, ["drained"]);
  dog[Symbol.dispose]();
});
