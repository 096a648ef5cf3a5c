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
