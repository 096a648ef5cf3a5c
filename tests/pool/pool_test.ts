import assert from "node:assert/strict";
import type { Backend } from "../../src/pool/backend.ts";
import type { Balancer, PickContext } from "../../src/pool/balancer.ts";
import { createPool } from "../../src/pool/pool.ts";
import { testConfig } from "../_helpers/config.ts";

/** The YAML parser behind testConfig() reads its debug switches from the environment. */
const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const URLS = ["http://127.0.0.1:9001", "http://127.0.0.1:9002", "http://127.0.0.1:9003"];
const CTX: PickContext = { clientIp: "203.0.113.7", request: new Request("http://aegis.test/") };

function ports(pool: { pick(ctx: PickContext): Backend | undefined }, n: number): string[] {
  return Array.from({ length: n }, () => pool.pick(CTX)?.url.port ?? "-");
}

Deno.test("createPool() builds one backend per configured entry, in order", yamlEnv, async () => {
  const pool = createPool(await testConfig(URLS));
  assert.deepEqual(pool.backends.map((b) => b.id), URLS);
});

Deno.test("createPool() uses the algorithm named in the configuration", yamlEnv, async (t) => {
  await t.step("weighted_round_robin (the default)", async () => {
    const config = await testConfig(URLS.slice(0, 2), {
      backends: [{ url: URLS[0], weight: 2 }, { url: URLS[1], weight: 1 }],
    });
    assert.deepEqual(ports(createPool(config), 6), [
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
    assert.deepEqual(ports(createPool(config), 4), ["9001", "9002", "9001", "9002"]);
  });
});

Deno.test("createPool() offers the balancer only available backends", yamlEnv, async (t) => {
  const down = new Set(["http://127.0.0.1:9002"]);
  const pool = createPool(await testConfig(URLS), { available: (b) => !down.has(b.id) });
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
    const pool = createPool(await testConfig(URLS), {
      balancer: last,
      available: (b) => b.id !== URLS[2],
    });
    assert.equal(pool.pick(CTX)?.id, URLS[1]);
    assert.deepEqual(seen, [{ ids: URLS.slice(0, 2), ctx: CTX }]);
  },
);
