import assert from "node:assert/strict";
import { clientKey } from "../../src/limit/mod.ts";

const none = { permissions: "none" } as const;

Deno.test("clientKey() keys IPv4 by the address itself", none, () => {
  assert.equal(clientKey("203.0.113.7", 64), "203.0.113.7");
  assert.equal(clientKey("[203.0.113.7]", 64), "203.0.113.7");
});

Deno.test("clientKey() keys IPv4-mapped IPv6 as the IPv4 address", none, () => {
  assert.equal(clientKey("::ffff:203.0.113.7", 64), "203.0.113.7");
  assert.equal(clientKey("::ffff:cb00:7107", 64), "203.0.113.7");
  assert.equal(clientKey("::FFFF:203.0.113.7", 48), "203.0.113.7");
});

Deno.test("clientKey() keys IPv6 by its network in canonical text", none, async (t) => {
  const cases: Array<[string, number, string]> = [
    ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64"],
    ["2001:DB8:0001:0002::1", 64, "2001:db8:1:2::/64"],
    ["[2001:db8:1:2::1]", 64, "2001:db8:1:2::/64"],
    ["fe80::1%eth0", 64, "fe80::/64"],
    ["2001:db8:1:2::1", 48, "2001:db8:1::/48"],
    ["2001:db8:1:2::1", 56, "2001:db8:1::/56"],
    ["2001:db8:1:2::1", 128, "2001:db8:1:2::1/128"],
    ["2001:db8:1:2::1", 0, "::/0"],
    ["::1", 64, "::/64"],
  ];
  for (const [ip, prefix, key] of cases) {
    await t.step(`${ip} /${prefix} → ${key}`, () => assert.equal(clientKey(ip, prefix), key));
  }
});

Deno.test("clientKey() keys text that is not an address as the raw text", none, () => {
  for (const raw of ["", "example.com", "127.1", "010.0.0.1", "1:2:3", "::ffff:999.0.0.1", "🙂"]) {
    assert.equal(clientKey(raw, 64), raw);
  }
});
