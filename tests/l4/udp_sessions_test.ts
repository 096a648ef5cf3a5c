/**
 * The NAT session table on its own: numbers in, sessions out, no sockets
 * and no timers.
 */

import assert from "node:assert/strict";
import { SessionEntry, type SessionLimits, SessionTable } from "../../src/l4/udp/sessions.ts";

const none = { permissions: "none" } as const;
const LIMITS: SessionLimits = { maxSessions: 3, sessionTimeoutMs: 30_000, replyTimeoutMs: 0 };

function table(limits: Partial<SessionLimits> = {}): SessionTable<SessionEntry> {
  return new SessionTable({ ...LIMITS, ...limits });
}

function entry(address: string, port: number): SessionEntry {
  return new SessionEntry(address, port);
}

Deno.test(
  "SessionTable finds a session by client address and port, and only that one",
  none,
  () => {
    const t = table();
    const a = t.add(entry("192.0.2.1", 5000), 0);
    const b = t.add(entry("192.0.2.1", 5001), 0);
    assert.equal(t.find("192.0.2.1", 5000), a);
    assert.equal(t.find("192.0.2.1", 5001), b);
    assert.equal(t.find("192.0.2.2", 5000), undefined);
    assert.equal(t.size, 2);
    assert.throws(() => t.add(entry("192.0.2.1", 5000), 0), RangeError);
  },
);

Deno.test(
  "SessionTable expires the sessions idle for the timeout, least recent first",
  none,
  () => {
    const t = table();
    const a = t.add(entry("192.0.2.1", 1), 0);
    const b = t.add(entry("192.0.2.2", 2), 1_000);
    t.touch(a, 20_000);
    assert.equal(t.nextDeadline(), 31_000, "b is due first now");
    assert.equal(t.nextExpired(30_999), undefined);
    assert.equal(t.nextExpired(31_000), b);
    t.remove(b);
    assert.equal(t.nextExpired(31_000), undefined);
    assert.equal(t.nextExpired(50_000), a);
  },
);

Deno.test("SessionTable evicts from the least recently active end when full", none, () => {
  const t = table();
  const a = t.add(entry("192.0.2.1", 1), 0);
  t.add(entry("192.0.2.2", 2), 1);
  t.add(entry("192.0.2.3", 3), 2);
  assert.ok(t.full);
  t.touch(a, 3);
  assert.equal(t.oldest()?.address, "192.0.2.2", "a was touched, so b is the oldest");
  assert.throws(() => t.add(entry("192.0.2.4", 4), 4), RangeError, "full: evict first");
  assert.equal(t.remove(t.oldest()!), true);
  t.add(entry("192.0.2.4", 4), 4);
  assert.deepEqual(t.entries().map((e) => e.address), ["192.0.2.3", "192.0.2.1", "192.0.2.4"]);
});

Deno.test(
  "SessionTable reports a session overdue when its backend never answered in time",
  none,
  async (t) => {
    await t.step("a first datagram starts the wait, later ones do not move it", () => {
      const s = table({ replyTimeoutMs: 2_000 });
      const a = s.add(entry("192.0.2.1", 1), 0);
      assert.equal(s.awaitReply(a, 100), true);
      assert.equal(s.awaitReply(a, 1_500), false);
      assert.equal(s.nextDeadline(), 2_100);
      assert.equal(s.nextOverdue(2_099), undefined);
      assert.equal(s.nextOverdue(2_100), a);
    });
    await t.step("an answer ends the wait for good, until the backend changes", () => {
      const s = table({ replyTimeoutMs: 2_000 });
      const a = s.add(entry("192.0.2.1", 1), 0);
      s.awaitReply(a, 0);
      s.answered(a);
      assert.equal(s.nextOverdue(10_000), undefined);
      assert.equal(s.awaitReply(a, 10_000), false, "answered: no more waiting");
      s.resetReply(a);
      assert.equal(s.awaitReply(a, 10_000), true, "a new backend is waited for again");
    });
    await t.step("a reply timeout of 0 never makes anything overdue", () => {
      const s = table({ replyTimeoutMs: 0 });
      const a = s.add(entry("192.0.2.1", 1), 0);
      s.awaitReply(a, 0);
      assert.equal(s.nextOverdue(1e12), undefined);
      assert.equal(s.nextDeadline(), 30_000, "only the idle timeout is due");
    });
    await t.step("removing a waiting session takes it off the wait list", () => {
      const s = table({ replyTimeoutMs: 2_000 });
      const a = s.add(entry("192.0.2.1", 1), 0);
      const b = s.add(entry("192.0.2.2", 2), 0);
      s.awaitReply(a, 0);
      s.awaitReply(b, 10);
      s.remove(a);
      assert.equal(s.nextOverdue(5_000), b);
    });
  },
);

Deno.test("SessionTable removes a session once, and forgets its client", none, () => {
  const t = table();
  const a = t.add(entry("192.0.2.1", 1), 0);
  assert.equal(t.remove(a), true);
  assert.equal(t.remove(a), false);
  assert.equal(t.size, 0);
  assert.equal(t.find("192.0.2.1", 1), undefined);
  assert.equal(t.oldest(), undefined);
  assert.equal(t.nextDeadline(), undefined);
});

Deno.test("SessionTable refuses limits that cannot work", none, () => {
  assert.throws(() => table({ maxSessions: 0 }), RangeError);
  assert.throws(() => table({ sessionTimeoutMs: 0 }), RangeError);
  assert.throws(() => table({ replyTimeoutMs: -1 }), RangeError);
  const t = table();
  t.setLimits({ ...LIMITS, maxSessions: 1 });
  t.add(entry("192.0.2.1", 1), 0);
  assert.ok(t.full);
});
