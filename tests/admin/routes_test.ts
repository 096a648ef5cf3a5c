/**
 * The admin API as a fetch-shaped function, called with `new Request()`:
 * which path and method reach which endpoint, and which need the token;
 * and the metrics listener's handler, which serves `/metrics` alone.
 * `tests/integration/admin_test.ts` and `metrics_listener_test.ts` cover
 * the same over a socket.
 */

import assert from "node:assert/strict";
import {
  type AdminControl,
  createAdminHandler,
  createMetricsHandler,
  PROMETHEUS_CONTENT_TYPE,
} from "../../src/admin/mod.ts";
import type { Config } from "../../src/config/mod.ts";
import { EventLog } from "../../src/events/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { StatsByName } from "../../src/metrics/mod.ts";
import { createPool } from "../../src/pool/mod.ts";
import { buildSnapshot } from "../../src/snapshot/mod.ts";
import { oneListener } from "../_helpers/snapshot.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { testConfig } from "../_helpers/config.ts";

const TOKEN = "s3cret-admin-token-0123456789";
const env: Pick<Deno.TestDefinition, "permissions"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

/** An admin handler over a real pool and snapshot, recording what it was asked to do. */
async function admin(token = TOKEN) {
  const clock = new ManualClock();
  const config: Config = await testConfig(["http://127.0.0.1:9001"], { admin: { token } });
  const pool = createPool(config.pools.default!, { clock });
  const calls: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  let draining = false;
  const control: AdminControl = {
    snapshot: () =>
      buildSnapshot({
        version: "9.9.9",
        startedAt: 0,
        ...oneListener({
          url: "http://127.0.0.1:8080",
          pools: [["default", pool]],
          limiter: {
            rate: 1,
            minRate: 1,
            maxRate: 1,
            burst: 1,
            trackedClients: 0,
            maxClients: 1,
            evictions: 0,
          },
          stats: new StatsByName(),
        }),
        events: new EventLog({ now: () => 0 }),
        clock,
        now: () => 1000,
      }),
    history: () => [],
    closing: new AbortController().signal,
    config: () => config,
    adminListen: "http://127.0.0.1:9090",
    metricsListen: "",
    reload: () => {
      calls.push("reload");
      return Promise.resolve({
        ok: true,
        added: [],
        removed: [],
        kept: ["x"],
        listeners: { opened: ["new"], closed: [], moved: [] },
      });
    },
    drain: () => {
      calls.push("drain");
      draining = true;
    },
    drainStatus: () => ({ draining, connections: 0, inFlight: 0 }),
  };
  const handle = createAdminHandler(
    control,
    createLogger({ sink: (l) => logs.push(JSON.parse(l)) }),
  );
  const call = (path: string, method = "GET", headers: Record<string, string> = {}) =>
    handle(new Request(`http://127.0.0.1:9090${path}`, { method, headers }));
  return { call, calls, logs, control };
}

const bearer = { authorization: `Bearer ${TOKEN}` };

Deno.test("the admin API reaches each endpoint by its path and method", env, async (t) => {
  const { call, calls } = await admin();
  await t.step("GET /health", async () => {
    const res = await call("/health");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal((await res.json()).status, "ok");
  });
  await t.step("GET /status", async () => {
    const res = await call("/status");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).version, "9.9.9");
  });
  await t.step("GET /metrics", async () => {
    const res = await call("/metrics");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(await res.text(), /^# HELP /m);
  });
  await t.step("POST /reload", async () => {
    const res = await call("/reload", "POST", bearer);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      reloaded: true,
      added: [],
      removed: [],
      kept: ["x"],
      listeners: { opened: ["new"], closed: [], moved: [] },
    });
  });
  await t.step("POST /drain", async () => {
    const res = await call("/drain", "POST", bearer);
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { draining: true, connections: 0, in_flight: 0 });
  });
  assert.deepEqual(calls, ["reload", "drain"], "each mutating endpoint ran once");
});

Deno.test("the admin API answers HEAD wherever it answers GET", env, async () => {
  const { call } = await admin();
  for (const path of ["/health", "/status", "/metrics", "/", "/dashboard.js", "/dashboard.css"]) {
    assert.equal((await call(path, "HEAD")).status, 200, path);
  }
});

Deno.test("the admin API answers 404 to any path not in its table", env, async () => {
  const { call, calls } = await admin();
  const paths = [
    "/nope",
    "/health/",
    "/HEALTH",
    "//health",
    "/drain/now",
    "/index.html",
    "/stream/",
  ];
  for (const path of paths) {
    for (const method of ["GET", "POST"]) {
      const res = await call(path, method, bearer);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(await res.text(), '{\n  "error": "not found"\n}\n');
    }
  }
  assert.deepEqual(calls, [], "no unknown path falls through to an endpoint");
});

Deno.test(
  "the admin API answers 405 with Allow to a known path asked with another method",
  env,
  async () => {
    const { call, calls } = await admin();
    const cases: Array<[string, string, string]> = [
      ["/health", "POST", "GET, HEAD"],
      ["/status", "DELETE", "GET, HEAD"],
      ["/metrics", "PUT", "GET, HEAD"],
      ["/reload", "GET", "POST"],
      ["/reload", "HEAD", "POST"],
      ["/drain", "GET", "POST"],
      ["/drain", "PATCH", "POST"],
      ["/", "POST", "GET, HEAD"],
      ["/dashboard.js", "PUT", "GET, HEAD"],
      ["/stream", "POST", "GET, HEAD"],
    ];
    for (const [path, method, allow] of cases) {
      const res = await call(path, method, bearer);
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
      if (method !== "HEAD") {
        assert.equal(await res.text(), '{\n  "error": "method not allowed"\n}\n');
      }
    }
    assert.deepEqual(calls, []);
  },
);

Deno.test("the admin API runs reload and drain only with the token", env, async (t) => {
  const { call, calls, logs } = await admin();
  for (const path of ["/reload", "/drain"]) {
    for (
      const [name, headers] of [
        ["no header", {}],
        ["a wrong token", { authorization: "Bearer wrong-token-0123456789" }],
        ["another scheme", { authorization: `Basic ${TOKEN}` }],
      ] as const
    ) {
      await t.step(`${path}, ${name}`, async () => {
        const res = await call(path, "POST", headers);
        assert.equal(res.status, 401);
        assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="aegis-admin"');
        assert.equal(await res.text(), '{\n  "error": "unauthorized"\n}\n');
      });
    }
  }
  assert.deepEqual(calls, [], "nothing ran");
  assert.equal(logs.filter((l) => l.msg === "admin request refused").length, 6);
  await t.step("reads need no token", async () => {
    assert.equal((await call("/status")).status, 200);
  });
});

Deno.test("the admin API runs reload and drain for anyone when no token is set", env, async () => {
  const { call, calls } = await admin("");
  assert.equal((await call("/reload", "POST")).status, 200);
  assert.equal((await call("/drain", "POST")).status, 202);
  assert.deepEqual(calls, ["reload", "drain"]);
});

Deno.test(
  "the metrics listener's handler serves the admin API's /metrics and nothing else",
  env,
  async (t) => {
    const { call, calls, control } = await admin();
    const handle = createMetricsHandler(control);
    const ask = (path: string, method = "GET") =>
      handle(new Request(`http://127.0.0.1:9091${path}`, { method, headers: bearer }));
    await t.step("GET /metrics: the same text, with the Prometheus content type", async () => {
      const res = await ask("/metrics");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
      assert.equal(await res.text(), await (await call("/metrics")).text());
    });
    await t.step("HEAD /metrics", async () => {
      assert.equal((await ask("/metrics", "HEAD")).status, 200);
    });
    await t.step("every admin endpoint and any other path: 404, even with the token", async () => {
      for (const path of ["/health", "/status", "/reload", "/drain", "/", "/metrics/"]) {
        for (const method of ["GET", "POST"]) {
          const res = await ask(path, method);
          assert.equal(res.status, 404, `${method} ${path}`);
          assert.equal(await res.text(), '{\n  "error": "not found"\n}\n');
        }
      }
      assert.deepEqual(calls, [], "neither reload nor drain ran");
    });
    await t.step("another method on /metrics: 405 with Allow", async () => {
      for (const method of ["POST", "PUT", "DELETE"]) {
        const res = await ask("/metrics", method);
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get("allow"), "GET, HEAD");
        assert.equal(await res.text(), '{\n  "error": "method not allowed"\n}\n');
      }
    });
    await t.step("it reads the drain the admin API started", async () => {
      assert.match(await (await ask("/metrics")).text(), /^proxy_draining 0$/m);
      assert.equal((await call("/drain", "POST", bearer)).status, 202);
      assert.match(await (await ask("/metrics")).text(), /^proxy_draining 1$/m);
    });
  },
);
