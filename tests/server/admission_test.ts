import assert from "node:assert/strict";
import { ConnectionAdmission, type ConnectionPermit } from "../../src/server/admission.ts";

const none = { permissions: "none" } as const;

function admitted(result: ConnectionPermit | string): ConnectionPermit {
  assert.notEqual(typeof result, "string", `refused: ${String(result)}`);
  return result as ConnectionPermit;
}

Deno.test(
  "ConnectionAdmission refuses past max_connections and counts it, whoever asks",
  none,
  () => {
    const admission = new ConnectionAdmission({ maxConnections: 3, maxPerClient: 10 });
    const permits = ["a", "b", "c"].map((c) => admitted(admission.admit(c)));
    assert.equal(admission.open, 3);
    assert.equal(admission.admit("d"), "max_connections");
    assert.equal(admission.admit("a"), "max_connections");
    assert.deepEqual(admission.rejected, { max_connections: 2, per_client: 0 });
    assert.equal(admission.open, 3, "refused connections take no slot");
    for (const p of permits) p[Symbol.dispose]();
  },
);

Deno.test(
  "ConnectionAdmission refuses a client past max_connections_per_client while others get in",
  none,
  () => {
    const admission = new ConnectionAdmission({ maxConnections: 100, maxPerClient: 2 });
    const a1 = admitted(admission.admit("203.0.113.7"));
    const a2 = admitted(admission.admit("203.0.113.7"));
    assert.equal(admission.admit("203.0.113.7"), "per_client");
    const b = admitted(admission.admit("198.51.100.1"));
    assert.equal(admission.openFor("203.0.113.7"), 2);
    assert.equal(admission.openFor("198.51.100.1"), 1);
    assert.deepEqual(admission.rejected, { max_connections: 0, per_client: 1 });
    for (const p of [a1, a2, b]) p[Symbol.dispose]();
  },
);

Deno.test(
  "ConnectionAdmission: max_connections is checked first when both limits are reached",
  none,
  () => {
    const admission = new ConnectionAdmission({ maxConnections: 1, maxPerClient: 1 });
    using _p = admitted(admission.admit("a"));
    assert.equal(admission.admit("a"), "max_connections");
  },
);

Deno.test("ConnectionAdmission: a closed connection frees its slot, exactly once", none, () => {
  const admission = new ConnectionAdmission({ maxConnections: 2, maxPerClient: 2 });
  const a = admitted(admission.admit("a"));
  const b = admitted(admission.admit("a"));
  assert.equal(admission.admit("a"), "max_connections");
  a[Symbol.dispose]();
  a[Symbol.dispose]();
  assert.equal(admission.open, 1, "a second dispose gives nothing back");
  assert.equal(admission.openFor("a"), 1);
  const c = admitted(admission.admit("a"));
  b[Symbol.dispose]();
  c[Symbol.dispose]();
  assert.equal(admission.open, 0);
  assert.equal(admission.clients, 0, "a client with no connection is forgotten");
});

Deno.test(
  "ConnectionAdmission: new limits apply to new connections; open ones stay",
  none,
  () => {
    const admission = new ConnectionAdmission({ maxConnections: 10, maxPerClient: 5 });
    const permits = [1, 2, 3].map(() => admitted(admission.admit("a")));
    admission.setLimits({ maxConnections: 10, maxPerClient: 2 });
    assert.equal(admission.open, 3, "nothing open is closed by a lower limit");
    assert.equal(admission.admit("a"), "per_client");
    permits[0]![Symbol.dispose]();
    permits[1]![Symbol.dispose]();
    using _again = admitted(admission.admit("a"));
    assert.deepEqual(admission.limits, { maxConnections: 10, maxPerClient: 2 });
    permits[2]![Symbol.dispose]();
  },
);
