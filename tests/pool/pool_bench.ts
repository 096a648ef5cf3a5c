/**
 * Cost of picking a backend, once per proxied request (and once more per
 * retry): the pool's availability filter plus each balancing policy, over
 * three healthy backends.
 *
 * Run: `deno task bench:micro`
 *
 * @module
 */

import type { PickContext } from "../../src/pool/balancer.ts";
import { createPool } from "../../src/pool/pool.ts";
import { testConfig } from "../_helpers/config.ts";

const URLS = ["http://127.0.0.1:9001", "http://127.0.0.1:9002", "http://127.0.0.1:9003"];
const CTX: PickContext = {
  clientIp: "203.0.113.7",
  request: new Request("http://aegis.test/", { headers: { cookie: "session=abc123" } }),
};
const TRIED = new Set([URLS[0]!]);

for (
  const [algorithm, hashKey] of [
    ["weighted_round_robin", undefined],
    ["round_robin", undefined],
    ["least_connections", undefined],
    ["consistent_hash", "client_ip"],
    ["consistent_hash", "cookie:session"],
  ] as const
) {
  const pool = createPool(
    (await testConfig(URLS, {
      backends: URLS.map((url, i) => ({ url, weight: i + 1 })),
      load_balancing: { algorithm, ...(hashKey ? { hash_key: hashKey } : {}) },
    })).pools.default!,
  );
  const label = hashKey ? `${algorithm} (${hashKey})` : algorithm;
  Deno.bench(
    `pick(): ${label}`,
    { group: "pick", baseline: algorithm === "weighted_round_robin" },
    () => {
      pool.pick(CTX);
    },
  );
  Deno.bench(`pick() on a retry, one backend excluded: ${label}`, { group: "retry" }, () => {
    pool.pick(CTX, TRIED);
  });
}
