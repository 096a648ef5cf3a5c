import assert from "node:assert/strict";
import { ClientResolver } from "../../src/limit/_resolver.ts";
import { parseCidr } from "../../src/net/mod.ts";

const none = { permissions: "none" } as const;

Deno.test("ClientResolver resolves keys and exemptions per address", none, () => {
  const resolver = new ClientResolver(
    64,
    [parseCidr("2001:db8::1/128")!, parseCidr("10.0.0.0/8")!],
    10,
  );
  assert.equal(resolver.resolve("2001:db8::1"), null);
  assert.equal(resolver.resolve("2001:db8::2"), "2001:db8::/64");
  assert.equal(resolver.resolve("10.9.9.9"), null);
  assert.equal(resolver.resolve("::ffff:10.9.9.9"), null);
  assert.equal(resolver.resolve("11.0.0.1"), "11.0.0.1");
  assert.equal(resolver.resolve("bogus"), "bogus");
  // Second time round, from the memo: same answers.
  assert.equal(resolver.resolve("2001:db8::1"), null);
  assert.equal(resolver.resolve("2001:db8::2"), "2001:db8::/64");
});

Deno.test(
  "ClientResolver without exemptions keys plain IPv4 text without memoizing it",
  none,
  () => {
    const resolver = new ClientResolver(64, [], 10);
    assert.equal(resolver.resolve("192.0.2.1"), "192.0.2.1");
    assert.equal(resolver.resolve("[192.0.2.1]"), "192.0.2.1");
    assert.equal(resolver.size, 1, "only the bracketed form needed parsing");
  },
);

Deno.test(
  "ClientResolver remembers at most `capacity` addresses, forgetting the oldest",
  none,
  () => {
    const resolver = new ClientResolver(64, [], 3);
    for (let i = 1; i <= 1000; i++) {
      assert.equal(
        resolver.resolve(`2001:db8:0:${i.toString(16)}::1`),
        `2001:db8:0:${i.toString(16)}::/64`,
      );
      assert.ok(resolver.size <= 3);
    }
    assert.equal(resolver.size, 3);
    // A forgotten address resolves the same when parsed again.
    assert.equal(resolver.resolve("2001:db8:0:1::1"), "2001:db8:0:1::/64");
    assert.equal(resolver.size, 3);
  },
);
