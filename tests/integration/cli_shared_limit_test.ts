/**
 * Fleet-wide rate limits with the real command line: two `aegis`
 * processes, run with exactly the compile task's permission flags, share
 * one limit through a real `redis-server`, keep serving while it is
 * stopped, and share again once it is back.
 */

import assert from "node:assert/strict";
import { startBackend } from "../_helpers/backend.ts";
import { type AegisProcess, spawnAegis } from "../_helpers/cli.ts";
import { writeConfigFile } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { startRedis } from "../_helpers/redis.ts";

const CLI: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { run: true, read: true, write: true, net: ["127.0.0.1"], env: true },
};

const RATE = 20;
const BURST = 5;

/** Statuses of requests sent by `workers` loops, each to the instances in turn, for `ms`. */
async function flood(urls: string[], ms: number, workers = 2): Promise<number[]> {
  const statuses: number[] = [];
  const end = performance.now() + ms;
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    for (let i = w; performance.now() < end; i++) {
      try {
        const res = await fetch(urls[i % urls.length]!);
        await res.body?.cancel();
        statuses.push(res.status);
      } catch {
        statuses.push(0);
      }
    }
  }));
  return statuses;
}

async function storeUp(aegis: AegisProcess): Promise<number | undefined> {
  const text = await (await fetch(`${aegis.adminUrl}/metrics`)).text();
  const m = /^proxy_rate_limit_store_up\{listener="default"\} (\d)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

async function limitEvents(aegis: AegisProcess): Promise<string[]> {
  const status = await (await fetch(`${aegis.adminUrl}/status`)).json();
  return (status.events as Array<{ kind: string; message: string }>)
    .filter((e) => e.kind === "limit").map((e) => e.message);
}

Deno.test(
  "two `aegis` processes share one limit through Redis, fail open while it is down, and share again",
  CLI,
  async (t) => {
    await using redis = await startRedis();
    await using backend = startBackend();
    const path = await writeConfigFile({
      server: { host: "127.0.0.1", port: 0 },
      backends: [{ url: backend.url, weight: 1 }],
      rate_limit: {
        requests_per_second: RATE,
        burst: BURST,
        store: { type: "redis", url: redis.url },
      },
      adaptive: { min_rate: 1, max_rate: 100 },
      admin: { address: "127.0.0.1:0" },
      development: { allow_loopback_backends: true },
      logging: { level: "info" },
    });
    try {
      await using one = await spawnAegis(path, ["--headless"]);
      await using two = await spawnAegis(path, ["--headless"]);
      const both = [`http://127.0.0.1:${one.port}/`, `http://127.0.0.1:${two.port}/`];
      await until(async () => (await storeUp(one)) === 1 && (await storeUp(two)) === 1, "up");

      await t.step(
        "over 10 s, one client hitting both gets the limit plus at most 10%",
        async () => {
          const statuses = await flood(both, 10_000);
          const admitted = statuses.filter((s) => s === 200).length;
          const limit = RATE * 10 + BURST;
          assert.deepEqual(statuses.filter((s) => s !== 200 && s !== 429), []);
          // Enough was sent for two separate limits to show (each would admit `limit`).
          assert.ok(statuses.length > 2 * limit * 1.1, `only ${statuses.length} sent`);
          assert.ok(admitted <= limit * 1.1, `${admitted} admitted, limit ${limit}`);
        },
      );

      await t.step("Redis stopped: no failed request, an event and the metric at 0", async () => {
        await redis.stop();
        const statuses = await flood(both, 2000);
        assert.deepEqual(statuses.filter((s) => s !== 200 && s !== 429), []);
        for (const aegis of [one, two]) {
          await until(async () => (await storeUp(aegis)) === 0, "the outage in the metric");
          const events = await limitEvents(aegis);
          assert.equal(events.length, 1, JSON.stringify(events));
          assert.match(events[0]!, /^default: shared rate limits unavailable: \S/);
        }
      });

      await t.step("Redis back: restored by itself, and the limit is shared again", async () => {
        await redis.restart();
        for (const aegis of [one, two]) {
          await until(async () => (await storeUp(aegis)) === 1, "restored in the metric");
          assert.equal((await limitEvents(aegis))[0], "default: shared rate limits restored");
        }
        const seconds = 4;
        const statuses = await flood(both, seconds * 1000);
        const admitted = statuses.filter((s) => s === 200).length;
        assert.deepEqual(statuses.filter((s) => s !== 200 && s !== 429), []);
        // The documented bound for 2 instances (each spends a first burst and
        // up to one interval plus round trip; 500 ms allowed for that on a
        // busy machine), still far below two separate limits.
        const bound = RATE * seconds + 2 * BURST + 2 * RATE * 0.5;
        assert.ok(statuses.length > 2 * (RATE * seconds + BURST), `only ${statuses.length} sent`);
        assert.ok(admitted <= bound, `${admitted} admitted, bound ${bound}`);
      });

      for (const aegis of [one, two]) {
        aegis.kill("SIGTERM");
        assert.equal((await aegis.status).code, 0, aegis.stderr());
      }
    } finally {
      await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    }
  },
);
