import assert from "node:assert/strict";
import { type Backend, createBackend } from "../../src/pool/backend.ts";
import { createBalancer, roundRobin, smoothWeightedRoundRobin } from "../../src/pool/balancer.ts";
import type { Balancer } from "../../src/pool/balancer.ts";
import { BALANCERS } from "../../src/pool/balancer.ts";
import { ALGORITHMS } from "../../src/config/mod.ts";

const none = { permissions: "none" } as const;

/** Backends named a, b, c, … with the given weights. */
function backends(...weights: number[]): Backend[] {
  return weights.map((weight, i) =>
    createBackend({ url: `http://${String.fromCharCode(97 + i)}.test:8080`, weight })
  );
}

/** The host letter of a picked backend, "-" for none. */
function name(b: Backend | undefined): string {
  return b ? b.url.hostname[0]! : "-";
}

/** Picks `n` times from `candidates` and returns the names in order. */
function sequence(balancer: Balancer, candidates: readonly Backend[], n: number): string[] {
  return Array.from({ length: n }, () => name(balancer.pick(candidates)));
}

/** Picks `n` times and counts each name. */
function counts(balancer: Balancer, candidates: readonly Backend[], n: number) {
  const out: Record<string, number> = {};
  for (const picked of sequence(balancer, candidates, n)) out[picked] = (out[picked] ?? 0) + 1;
  return out;
}

/** Asserts that `count` of `n` is within one percentage point of `share`. */
function assertShare(count: number | undefined, n: number, share: number, label: string) {
  const actual = (count ?? 0) / n;
  assert.ok(Math.abs(actual - share) <= 0.01, `${label}: ${actual} is not within 1% of ${share}`);
}

Deno.test(
  "smoothWeightedRoundRobin() interleaves 5:1:1 as nginx does: a a b a c a a",
  none,
  async (t) => {
    const wrr = smoothWeightedRoundRobin();
    const abc = backends(5, 1, 1);
    for (let round = 1; round <= 3; round++) {
      await t.step(`round ${round} of 7 picks`, () => {
        assert.deepEqual(sequence(wrr, abc, 7), ["a", "a", "b", "a", "c", "a", "a"]);
      });
    }
  },
);

Deno.test("smoothWeightedRoundRobin() never sends a backend a burst beyond its share", none, () => {
  // 2:1 must alternate a a b, never a a a.
  assert.deepEqual(sequence(smoothWeightedRoundRobin(), backends(2, 1), 6), [
    "a",
    "b",
    "a",
    "a",
    "b",
    "a",
  ]);
});

Deno.test(
  "smoothWeightedRoundRobin() gives 1:1:2 shares of 25/25/50 within 1% over 10,000 picks",
  none,
  () => {
    const n = 10_000;
    const c = counts(smoothWeightedRoundRobin(), backends(1, 1, 2), n);
    assertShare(c.a, n, 0.25, "a");
    assertShare(c.b, n, 0.25, "b");
    assertShare(c.c, n, 0.5, "c");
  },
);

Deno.test(
  "smoothWeightedRoundRobin() gives 3:7 shares of 30/70 within 1% over 10,000 picks",
  none,
  () => {
    const n = 10_000;
    const c = counts(smoothWeightedRoundRobin(), backends(3, 7), n);
    assertShare(c.a, n, 0.3, "a");
    assertShare(c.b, n, 0.7, "b");
  },
);

Deno.test("smoothWeightedRoundRobin() treats equal weights as plain rotation", none, () => {
  assert.deepEqual(sequence(smoothWeightedRoundRobin(), backends(4, 4, 4), 6), [
    "a",
    "b",
    "c",
    "a",
    "b",
    "c",
  ]);
});

Deno.test(
  "smoothWeightedRoundRobin() gives a backend left out of the candidates no picks",
  none,
  async (t) => {
    const wrr = smoothWeightedRoundRobin();
    const [a, b, c] = backends(5, 1, 1) as [Backend, Backend, Backend];
    await t.step("only the remaining candidates are picked", () => {
      const got = counts(wrr, [a, c], 1000);
      assert.equal(got.b, undefined);
      assertShare(got.a, 1000, 5 / 6, "a");
      assertShare(got.c, 1000, 1 / 6, "c");
    });
    await t.step("it is picked again once it is a candidate again", () => {
      const got = counts(wrr, [a, b, c], 7000);
      assertShare(got.b, 7000, 1 / 7, "b");
    });
  },
);

Deno.test(
  "smoothWeightedRoundRobin() uses weightOf: a weight of 0 excludes a backend",
  none,
  () => {
    const [a, b, c] = backends(1, 1, 1) as [Backend, Backend, Backend];
    const warming = new Set([b.id]);
    const wrr = smoothWeightedRoundRobin((x) => warming.has(x.id) ? 0 : x.weight);
    const got = counts(wrr, [a, b, c], 1000);
    assert.deepEqual(got, { a: 500, c: 500 });
  },
);

Deno.test(
  "smoothWeightedRoundRobin() follows weightOf's effective weights, not the configured ones",
  none,
  () => {
    const abc = backends(1, 1);
    // A warm-up that gives b a tenth of its weight.
    const wrr = smoothWeightedRoundRobin((x) =>
      x.id === "http://b.test:8080" ? x.weight / 10 : x.weight
    );
    const n = 11_000;
    const got = counts(wrr, abc, n);
    assertShare(got.a, n, 10 / 11, "a");
    assertShare(got.b, n, 1 / 11, "b");
  },
);

Deno.test("smoothWeightedRoundRobin() ignores negative weights", none, () => {
  const wrr = smoothWeightedRoundRobin((x) => x.id === "http://a.test:8080" ? -5 : 1);
  assert.deepEqual(sequence(wrr, backends(1, 1), 3), ["b", "b", "b"]);
});

Deno.test(
  "smoothWeightedRoundRobin() ignores a non-finite weight from weightOf instead of starving the others",
  none,
  async (t) => {
    // A warm-up dividing by a zero duration yields 0/0 = NaN or x/0 = Infinity.
    for (const bad of [NaN, Infinity]) {
      await t.step(`${bad}`, () => {
        const wrr = smoothWeightedRoundRobin((x) => x.id === "http://a.test:8080" ? bad : x.weight);
        const picked = sequence(wrr, backends(1, 1), 6);
        assert.ok(!picked.includes("-"), `a healthy candidate was not picked: ${picked.join(" ")}`);
        assert.ok(picked.filter((p) => p === "b").length >= 3, picked.join(" "));
      });
    }
  },
);

Deno.test(
  "smoothWeightedRoundRobin() returns undefined when there is nothing to pick",
  none,
  async (t) => {
    await t.step(
      "no candidates",
      () => assert.equal(smoothWeightedRoundRobin().pick([]), undefined),
    );
    await t.step("only zero-weight candidates", () => {
      assert.equal(smoothWeightedRoundRobin(() => 0).pick(backends(1, 2)), undefined);
    });
  },
);

Deno.test("smoothWeightedRoundRobin() picks a lone candidate every time", none, () => {
  assert.deepEqual(sequence(smoothWeightedRoundRobin(), backends(3), 3), ["a", "a", "a"]);
});

Deno.test("roundRobin() ignores weights and cycles evenly", none, async (t) => {
  const rr = roundRobin();
  const abc = backends(5, 1, 1);
  await t.step("strict rotation", () => {
    assert.deepEqual(sequence(rr, abc, 7), ["a", "b", "c", "a", "b", "c", "a"]);
  });
  await t.step("equal shares over 9,000 picks", () => {
    assert.deepEqual(counts(roundRobin(), abc, 9000), { a: 3000, b: 3000, c: 3000 });
  });
});

Deno.test(
  "roundRobin() returns undefined for no candidates and copes with a changing list",
  none,
  () => {
    const rr = roundRobin();
    assert.equal(rr.pick([]), undefined);
    const [a, b, c] = backends(1, 1, 1) as [Backend, Backend, Backend];
    const picked = [rr.pick([a, b, c]), rr.pick([a, c]), rr.pick([b])];
    assert.ok(picked.every((p) => p !== undefined));
  },
);

Deno.test("createBalancer() builds each policy by its configuration name", none, () => {
  assert.equal(createBalancer("weighted_round_robin").name, "weighted_round_robin");
  assert.equal(createBalancer("round_robin").name, "round_robin");
  assert.deepEqual(
    sequence(createBalancer("weighted_round_robin"), backends(5, 1, 1), 7),
    ["a", "a", "b", "a", "c", "a", "a"],
  );
});

Deno.test("createBalancer() throws on an unknown name", none, async (t) => {
  for (const bad of ["least_connection", "", "Round_Robin", "round_robin "]) {
    await t.step(JSON.stringify(bad), () => {
      assert.throws(() => createBalancer(bad), /unknown balancing algorithm/);
    });
  }
});

Deno.test(
  "BALANCERS has exactly one policy per algorithm the configuration accepts, named by it",
  none,
  async (t) => {
    assert.deepEqual(Object.keys(BALANCERS).sort(), [...ALGORITHMS].sort());
    for (const algorithm of ALGORITHMS) {
      await t.step(algorithm, () => {
        const balancer = BALANCERS[algorithm]({ algorithm, hash_key: "client_ip" });
        assert.equal(balancer.name, algorithm);
        assert.equal(createBalancer(algorithm).name, algorithm);
      });
    }
  },
);

Deno.test(
  "BALANCERS builds a fresh policy each time, so two pools never share a rotation",
  none,
  () => {
    const settings = { algorithm: "round_robin", hash_key: "client_ip" } as const;
    const first = BALANCERS.round_robin(settings);
    const second = BALANCERS.round_robin(settings);
    const abc = backends(1, 1, 1);
    assert.deepEqual(sequence(first, abc, 2), ["a", "b"]);
    assert.deepEqual(sequence(second, abc, 2), ["a", "b"]);
  },
);

Deno.test("only consistent_hash reads the hash key", none, () => {
  assert.equal(createBalancer("round_robin", "bogus").name, "round_robin");
  assert.throws(() => createBalancer("consistent_hash", "bogus"), /invalid hash key bogus/);
});
