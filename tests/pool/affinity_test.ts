import assert from "node:assert/strict";
import {
  type Candidate,
  consistentHash,
  createBalancer,
  hashKeyOf,
  leastConnections,
  parseHashKey,
} from "../../src/pool/balancer.ts";
import { hash32, HashRing } from "../../src/pool/hash_ring.ts";

const none = { permissions: "none" } as const;

function candidates(n: number, weight = 1): Candidate[] {
  return Array.from({ length: n }, (_, i) => ({ id: `http://b${i}.test`, weight }));
}

function ctx(clientIp: string, headers: HeadersInit = {}) {
  return { clientIp, request: new Request("http://front.test/", { headers }) };
}

Deno.test("consistentHash() sends one key to the same backend every time", none, () => {
  const ch = consistentHash();
  const five = candidates(5);
  for (const ip of ["203.0.113.1", "198.51.100.77", "2001:db8::5"]) {
    const first = ch.pick(five, ctx(ip))!.id;
    for (let i = 0; i < 20; i++) assert.equal(ch.pick(five, ctx(ip))!.id, first);
  }
});

Deno.test(
  "consistentHash(): taking one of 5 backends out moves about 1/5 of 10,000 keys, and only its own",
  none,
  () => {
    const ch = consistentHash();
    const five = candidates(5);
    const keys = Array.from(
      { length: 10_000 },
      (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    );
    const before = keys.map((k) => ch.pick(five, ctx(k))!.id);
    const removed = five[2]!.id;
    const four = five.filter((c) => c.id !== removed);
    const after = keys.map((k) => ch.pick(four, ctx(k))!.id);
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      assert.equal(before[i], removed, `key ${keys[i]} moved though its backend stayed`);
    }
    const share = moved / keys.length;
    assert.ok(
      share > 0.15 && share < 0.25,
      `moved ${(share * 100).toFixed(1)}% of keys, expected ≈ 20%`,
    );
    // And the shares themselves are balanced: each of the 5 holds 20% ± 5%.
    for (const c of five) {
      const held = before.filter((id) => id === c.id).length / keys.length;
      assert.ok(Math.abs(held - 0.2) < 0.05, `${c.id} holds ${(held * 100).toFixed(1)}%`);
    }
  },
);

Deno.test("consistentHash() gives a weight-2 backend about twice the keys", none, () => {
  const ch = consistentHash();
  const list: Candidate[] = [{ id: "a", weight: 2 }, { id: "b", weight: 1 }];
  let a = 0;
  for (let i = 0; i < 10_000; i++) if (ch.pick(list, ctx(`k${i}`))!.id === "a") a++;
  assert.ok(Math.abs(a / 10_000 - 2 / 3) < 0.05, `a got ${a / 100}%`);
});

Deno.test(
  "consistentHash() keys on a header or a cookie, falling back to the client address",
  none,
  () => {
    const byHeader = consistentHash(parseHashKey("header:X-Tenant")!);
    const byCookie = consistentHash(parseHashKey("cookie:session")!);
    const five = candidates(5);
    const tenant = (t: string, ip: string) => byHeader.pick(five, ctx(ip, { "x-tenant": t }))!.id;
    assert.equal(
      tenant("acme", "192.0.2.1"),
      tenant("acme", "192.0.2.99"),
      "same tenant, any client",
    );
    const session = (s: string, ip: string) =>
      byCookie.pick(five, ctx(ip, { cookie: `theme=dark; session=${s}; other=1` }))!.id;
    assert.equal(session("abc", "192.0.2.1"), session("abc", "198.51.100.2"));
    assert.equal(
      hashKeyOf(parseHashKey("cookie:session")!, ctx("192.0.2.7", { cookie: "theme=dark" })),
      "192.0.2.7",
    );
    assert.equal(hashKeyOf(parseHashKey("header:x-tenant")!, ctx("192.0.2.8")), "192.0.2.8");
  },
);

Deno.test(
  "parseHashKey() reads client_ip, header:NAME and cookie:NAME and nothing else",
  none,
  () => {
    assert.deepEqual(parseHashKey("client_ip"), { kind: "client_ip" });
    assert.deepEqual(parseHashKey("header:X-User"), { kind: "header", name: "x-user" });
    assert.deepEqual(parseHashKey("cookie:SID"), { kind: "cookie", name: "SID" });
    for (const bad of ["", "ip", "header:", "cookie:", "header:a b", "header:x\n", "Client_IP"]) {
      assert.equal(parseHashKey(bad), undefined, JSON.stringify(bad));
    }
  },
);

Deno.test("HashRing does not depend on the order its members are listed in", none, () => {
  const a = new HashRing();
  const b = new HashRing();
  a.update(candidates(4));
  b.update(candidates(4).reverse());
  for (let i = 0; i < 1000; i++) assert.equal(a.lookup(`k${i}`), b.lookup(`k${i}`));
  assert.equal(new HashRing().lookup("x"), undefined);
  assert.notEqual(hash32("10.0.0.1"), hash32("10.0.0.2"));
});

Deno.test(
  "leastConnections() prefers the backend with the fewest requests in progress per weight",
  none,
  () => {
    const lc = leastConnections();
    const list: Candidate[] = [
      { id: "a", weight: 1, inFlight: 3 },
      { id: "b", weight: 1, inFlight: 1 },
      { id: "c", weight: 4, inFlight: 6 }, // (6+1)/4 = 1.75 < (1+1)/1 = 2
    ];
    assert.equal(lc.pick(list)!.id, "c");
    assert.equal(
      lc.pick([{ id: "a", weight: 1, inFlight: 0 }, { id: "b", weight: 1, inFlight: 1 }])!.id,
      "a",
    );
    assert.equal(lc.pick([]), undefined);
  },
);

Deno.test(
  "leastConnections() spreads ties instead of always choosing the first backend",
  none,
  () => {
    const lc = leastConnections();
    const idle = candidates(3);
    const seen = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const id = lc.pick(idle)!.id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    assert.equal(seen.size, 3);
    for (const [id, n] of seen) assert.ok(n >= 90, `${id} got ${n} of 300`);
  },
);

Deno.test(
  "createBalancer() builds least_connections and consistent_hash with its key",
  none,
  () => {
    assert.equal(createBalancer("least_connections").name, "least_connections");
    assert.equal(createBalancer("consistent_hash", "header:x-user").name, "consistent_hash");
    assert.throws(() => createBalancer("consistent_hash", "bogus"), /invalid hash key/);
  },
);
