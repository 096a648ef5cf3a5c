import assert from "node:assert/strict";
import { LruMap } from "../../src/limit/_lru.ts";

const none = { permissions: "none" } as const;

/** Drops every entry, oldest first, and returns their values in that order. */
function drain(lru: LruMap<number>): number[] {
  const out: number[] = [];
  for (let v = lru.oldest(); v !== undefined; v = lru.oldest()) {
    out.push(v);
    assert.equal(lru.dropOldest(), true);
  }
  return out;
}

Deno.test("LruMap orders entries from least to most recently used", none, async (t) => {
  await t.step("adding appends as most recent", () => {
    const lru = new LruMap<number>();
    for (const n of [1, 2, 3]) lru.add(`k${n}`, n);
    assert.equal(lru.size, 3);
    assert.deepEqual(drain(lru), [1, 2, 3]);
    assert.equal(lru.size, 0);
  });
  await t.step("use() moves an entry to the most recent end, from any position", () => {
    const lru = new LruMap<number>();
    for (const n of [1, 2, 3, 4]) lru.add(`k${n}`, n);
    assert.equal(lru.use("k1"), 1); // oldest → newest
    assert.equal(lru.use("k3"), 3); // middle → newest
    assert.equal(lru.use("k3"), 3); // already newest
    assert.deepEqual(drain(lru), [2, 4, 1, 3]);
  });
  await t.step("use() of an absent key changes nothing", () => {
    const lru = new LruMap<number>();
    lru.add("a", 1);
    assert.equal(lru.use("b"), undefined);
    assert.equal(lru.size, 1);
  });
  await t.step("a dropped key is gone and can be added again as newest", () => {
    const lru = new LruMap<number>();
    lru.add("a", 1);
    lru.add("b", 2);
    lru.dropOldest();
    assert.equal(lru.use("a"), undefined);
    lru.add("a", 10);
    assert.deepEqual(drain(lru), [2, 10]);
  });
  await t.step("dropOldest() on an empty map reports false", () => {
    const lru = new LruMap<number>();
    assert.equal(lru.dropOldest(), false);
    assert.equal(lru.oldest(), undefined);
  });
  await t.step("a single entry can be used, dropped and re-added", () => {
    const lru = new LruMap<number>();
    lru.add("a", 1);
    assert.equal(lru.use("a"), 1);
    assert.equal(lru.dropOldest(), true);
    assert.equal(lru.size, 0);
    lru.add("a", 2);
    assert.deepEqual(drain(lru), [2]);
  });
});
