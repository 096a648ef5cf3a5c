import assert from "node:assert/strict";
import { authorized } from "../../src/admin/mod.ts";

const none = { permissions: "none" } as const;
const TOKEN = "correct-horse-battery-staple-42";

Deno.test("authorized() accepts exactly `Bearer <token>`", none, async () => {
  assert.equal(await authorized(`Bearer ${TOKEN}`, TOKEN), true);
  assert.equal(await authorized(`bearer ${TOKEN}`, TOKEN), true, "the scheme is case-insensitive");
  for (
    const bad of [
      null,
      "",
      TOKEN,
      `Bearer`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      `Bearer ${TOKEN} extra`,
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN.toUpperCase()}`,
    ]
  ) {
    assert.equal(await authorized(bad, TOKEN), false, JSON.stringify(bad));
  }
});

Deno.test("authorized() lets everything through when no token is configured", none, async () => {
  assert.equal(await authorized(null, ""), true);
  assert.equal(await authorized("Bearer anything", ""), true);
});
