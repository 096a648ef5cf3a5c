import assert from "node:assert/strict";
import { EventLog } from "../../src/events/mod.ts";
import { eventLogger } from "../../src/log/mod.ts";

const none = { permissions: "none" } as const;

Deno.test("eventLogger() turns warnings and errors into events and drops the rest", none, () => {
  const events = new EventLog();
  const log = eventLogger(events);
  log.info("request", { status: 200 });
  log.debug("noise");
  log.warn("backend request failed", {
    backend: "http://b:1",
    error: "refused",
    token: "t0ps3cret",
  });
  log.error("internal error", { error: "bug" });
  const recent = events.recent();
  assert.deepEqual(recent.map((e) => e.message), [
    "internal error: bug",
    "backend request failed: http://b:1 · refused",
  ]);
  assert.equal(recent[1]!.kind, "log");
  assert.equal(recent[1]!.fields.token, "[redacted]");
  assert.equal(log.enabled("info"), false);
});

Deno.test("eventLogger() skips lines whose authors already record them as events", none, () => {
  const events = new EventLog();
  const log = eventLogger(events);
  log.warn("circuit breaker opened", { backend: "http://b:1" });
  log.warn("backend unhealthy", { backend: "http://b:1" });
  assert.equal(events.total, 0);
});
