import assert from "node:assert/strict";
import { createBackend } from "../../src/pool/backend.ts";

const none = { permissions: "none" } as const;

Deno.test("createBackend() keeps the configured URL as id, and the weight", none, () => {
  const b = createBackend({ url: "http://10.0.0.5:8080/api/", weight: 3 });
  assert.equal(b.id, "http://10.0.0.5:8080/api/");
  assert.equal(b.weight, 3);
  assert.ok(b.url instanceof URL);
  assert.equal(b.url.port, "8080");
});

Deno.test("createBackend() base has no trailing slash and keeps a path prefix", none, async (t) => {
  const cases: Array<[string, string]> = [
    ["http://10.0.0.5:8080", "http://10.0.0.5:8080"],
    ["http://10.0.0.5:8080/", "http://10.0.0.5:8080"],
    ["http://10.0.0.5:8080/api", "http://10.0.0.5:8080/api"],
    ["http://10.0.0.5:8080/api/", "http://10.0.0.5:8080/api"],
    ["http://10.0.0.5:8080/api//", "http://10.0.0.5:8080/api"],
    ["http://10.0.0.5:8080/a/b/", "http://10.0.0.5:8080/a/b"],
    ["https://Backend.Example:443/v1/", "https://backend.example/v1"],
    ["http://backend.example:80/", "http://backend.example"],
    ["http://[::1]:9000/x/", "http://[::1]:9000/x"],
  ];
  for (const [url, base] of cases) {
    await t.step(
      `${url} → ${base}`,
      () => assert.equal(createBackend({ url, weight: 1 }).base, base),
    );
  }
});

Deno.test("createBackend() base joins with a request path into one slash", none, () => {
  const b = createBackend({ url: "http://10.0.0.5:8080/api/", weight: 1 });
  assert.equal(b.base + "/users?id=1", "http://10.0.0.5:8080/api/users?id=1");
});

Deno.test("createBackend() throws on a URL that does not parse", none, () => {
  assert.throws(() => createBackend({ url: "not a url", weight: 1 }), TypeError);
});

Deno.test(
  "createBackend() reads an L4 address as a tcp: URL keyed by the address",
  none,
  async (t) => {
    await t.step("IPv4", () => {
      const b = createBackend({ address: "10.0.0.6:5432", weight: 2 });
      assert.equal(b.id, "10.0.0.6:5432");
      assert.equal(b.url.href, "tcp://10.0.0.6:5432");
      assert.equal(b.url.hostname, "10.0.0.6");
      assert.equal(b.url.port, "5432");
      assert.equal(b.base, "");
      assert.equal(b.weight, 2);
    });
    await t.step("IPv6 keeps its brackets in the URL", () => {
      const b = createBackend({ address: "[::1]:6379", weight: 1 });
      assert.equal(b.url.hostname, "[::1]");
      assert.equal(b.url.port, "6379");
    });
  },
);

Deno.test("createBackend() refuses an address that is not a bare host:port", none, async (t) => {
  for (const address of ["db.internal", "db.internal:5432/x", "u@db:5432", "db:5432?x", "db:x"]) {
    await t.step(address, () => {
      assert.throws(() => createBackend({ address, weight: 1 }), TypeError);
    });
  }
  await t.step("an entry with neither url nor address", () => {
    assert.throws(() => createBackend({ weight: 1 }), TypeError);
  });
});
