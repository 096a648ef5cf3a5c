import assert from "node:assert/strict";
import type { BackendState } from "../../src/pool/state.ts";
import type { Balancer, PickContext } from "../../src/pool/balancer.ts";
import { createPool } from "../../src/pool/pool.ts";
import { testConfig } from "../_helpers/config.ts";

/** The YAML parser behind testConfig() reads its debug switches from the environment. */
const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const URLS = ["http://127.0.0.1:9001", "http://127.0.0.1:9002", "http://127.0.0.1:9003"];
const CTX: PickContext = { clientIp: "203.0.113.7", request: new Request("http://aegis.test/") };

function ports(pool: { pick(ctx: PickContext): BackendState | undefined }, n: number): string[] {
  return Array.from({ length: n }, () => pool.pick(CTX)?.backend.url.port ?? "-");
}

Deno.test("createPool() builds one backend per configured entry, in order", yamlEnv, async () => {
  const pool = createPool((await testConfig(URLS)).pools.default!);
  assert.deepEqual(pool.backends.map((b) => b.id), URLS);
});

Deno.test("createPool() uses the algorithm named in the configuration", yamlEnv, async (t) => {
  await t.step("weighted_round_robin (the default)", async () => {
    const config = await testConfig(URLS.slice(0, 2), {
      backends: [{ url: URLS[0], weight: 2 }, { url: URLS[1], weight: 1 }],
    });
    assert.deepEqual(ports(createPool(config.pools.default!), 6), [
      "9001",
      "9002",
      "9001",
      "9001",
      "9002",
      "9001",
    ]);
  });
  await t.step("round_robin", async () => {
    const config = await testConfig(URLS.slice(0, 2), {
      backends: [{ url: URLS[0], weight: 2 }, { url: URLS[1], weight: 1 }],
      load_balancing: { algorithm: "round_robin" },
    });
    assert.deepEqual(ports(createPool(config.pools.default!), 4), ["9001", "9002", "9001", "9002"]);
  });
});

Deno.test("createPool() offers the balancer only available backends", yamlEnv, async (t) => {
  const down = new Set(["http://127.0.0.1:9002"]);
  const pool = createPool((await testConfig(URLS)).pools.default!, {
    available: (b) => !down.has(b.id),
  });
  await t.step("an unavailable backend gets no picks", () => {
    assert.deepEqual(ports(pool, 4).sort(), ["9001", "9001", "9003", "9003"]);
  });
  await t.step("it is picked again once available", () => {
    down.clear();
    assert.ok(ports(pool, 6).includes("9002"));
  });
  await t.step("nothing available gives undefined", () => {
    for (const url of URLS) down.add(url);
    assert.equal(pool.pick(CTX), undefined);
  });
  await t.step("every backend stays listed whatever its availability", () => {
    assert.equal(pool.backends.length, 3);
  });
});

Deno.test(
  "createPool() passes candidates and the context to a given balancer",
  yamlEnv,
  async () => {
    const seen: Array<{ ids: string[]; ctx?: PickContext }> = [];
    const last: Balancer = {
      name: "last",
      pick(candidates, ctx) {
        seen.push({ ids: candidates.map((b) => b.id), ctx });
        return candidates.at(-1);
      },
    };
    const pool = createPool((await testConfig(URLS)).pools.default!, {
      balancer: last,
      available: (b) => b.id !== URLS[2],
    });
    assert.equal(pool.pick(CTX)?.id, URLS[1]);
    assert.deepEqual(seen, [{ ids: URLS.slice(0, 2), ctx: CTX }]);
  },
);

Deno.test(
  "createPool(): unhealthy and open-circuit backends get no traffic, and come back",
  yamlEnv,
  async () => {
    const config = await testConfig(URLS, {
      health_check: { unhealthy_threshold: 1, healthy_threshold: 1 },
      circuit_breaker: { failure_threshold: 1, open_timeout: "1h" },
    });
    const pool = createPool(config.pools.default!);
    const [a, b] = pool.states;
    a!.observeHealth(false);
    b!.breaker.acquire()!.failure();
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const id = pool.pick(CTX)!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()], [URLS[2]], "only the healthy, closed backend is picked");
    assert.equal(pool.states.length, 3, "nobody was removed from the pool");
    a!.observeHealth(true);
    assert.ok(ports(pool, 20).includes("9001"), "back after a good check (warming up)");
  },
);

Deno.test(
  "createPool(): a recovering backend's share grows 25→50→75→100% of its weight",
  yamlEnv,
  async () => {
    const config = await testConfig(URLS.slice(0, 2), {
      health_check: { unhealthy_threshold: 1, healthy_threshold: 1 },
    });
    const pool = createPool(config.pools.default!);
    const recovering = pool.states[0]!;
    recovering.observeHealth(false);
    const shares: number[] = [];
    for (let step = 0; step < 4; step++) {
      recovering.observeHealth(true);
      let hits = 0;
      for (let i = 0; i < 10_000; i++) if (pool.pick(CTX)!.id === URLS[0]) hits++;
      shares.push(hits / 10_000);
    }
    // Weights 1:1, so the recovering backend's share is f / (f + 1) for f = .25, .5, .75, 1.
    const expected = [0.25, 0.5, 0.75, 1].map((f) => f / (f + 1));
    shares.forEach((s, i) =>
      assert.ok(Math.abs(s - expected[i]!) <= 0.01, `step ${i + 1}: ${s} vs ${expected[i]}`)
    );
  },
);

Deno.test("createPool() skips backends already tried", yamlEnv, async () => {
  const pool = createPool((await testConfig(URLS)).pools.default!);
  const tried = new Set([URLS[0]!, URLS[1]!]);
  for (let i = 0; i < 10; i++) assert.equal(pool.pick(CTX, tried)?.id, URLS[2]);
  tried.add(URLS[2]!);
  assert.equal(pool.pick(CTX, tried), undefined);
});
