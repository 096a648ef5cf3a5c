/**
 * Field names are snake_case, and the compiler says so: an event or log
 * line with a camelCase field does not type-check. Each `@ts-expect-error`
 * below fails `deno check` the day such a call compiles again. The calls
 * run too, so the test also shows what an accepted call records.
 */

import assert from "node:assert/strict";
import { EventLog } from "../../src/events/mod.ts";
import { createLogger } from "../../src/log/mod.ts";

const none = { permissions: "none" } as const;

Deno.test("EventLog.record() takes snake_case field names and refuses camelCase ones", none, () => {
  const events = new EventLog({ now: () => 1 });
  const ok = events.record("drain", "draining started", { connections: 2, in_flight: 1 });
  assert.deepEqual(ok.fields, { connections: 2, in_flight: 1 });

  // @ts-expect-error field names are snake_case
  events.record("drain", "draining started", { inFlight: 1 });
  const limits = { maxConnections: 1 };
  // @ts-expect-error a spread TypeScript object brings its camelCase names along
  events.record("limits", "limits changed", { reason: "reload", ...limits });
});

Deno.test("Logger methods take snake_case field names and refuse camelCase ones", none, () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", sink: (l) => lines.push(l) });
  log.info("connections refused", { max_connections: 1, per_client: 2 });
  const first = JSON.parse(lines[0]!);
  assert.equal(first.max_connections, 1);
  assert.equal(first.per_client, 2);

  // @ts-expect-error field names are snake_case
  log.debug("x", { retryMs: 1 });
  // @ts-expect-error field names are snake_case
  log.info("x", { requestId: "r" });
  // @ts-expect-error field names are snake_case
  log.warn("x", { maxPerClient: 1 });
  // @ts-expect-error field names are snake_case
  log.error("x", { descriptorLimit: 1 });
});

Deno.test("names known only as string pass: they are checked where they are written", none, () => {
  const events = new EventLog();
  const detail: Record<string, number> = { whatever: 1 };
  assert.deepEqual(events.record("log", "detail", detail).fields, { whatever: 1 });
});
