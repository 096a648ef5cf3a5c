/** `server.workers`: what a file may write, what it refuses, and what a reload does with it. */

import assert from "node:assert/strict";
import { formatDiagnostic, parseConfig } from "../../src/config/mod.ts";
import { planReload } from "../../src/reload/mod.ts";
import { testConfig } from "../_helpers/config.ts";

/** npm:yaml reads its debug switches from the environment. */
const PARSE: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

/** YAML text from lines, so that line numbers in assertions are easy to count. */
function yml(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

const LOOPBACK = ["development:", "  allow_loopback_backends: true"];
const BACKEND = ["backends:", "  - url: http://127.0.0.1:9001", "    weight: 1"];

/** The positioned problems of a file, as `aegis check` prints them. */
async function problems(text: string): Promise<string[]> {
  const r = await parseConfig(text, { file: "aegis.yml" });
  assert.ok(!r.ok, "expected the file to be refused");
  return r.diagnostics.map((d) => formatDiagnostic("aegis.yml", d));
}

Deno.test("server.workers is 1 unless written, and keeps auto as written", PARSE, async (t) => {
  await t.step("1 by default", async () => {
    const r = await parseConfig(yml(...LOOPBACK, ...BACKEND));
    assert.ok(r.ok);
    assert.equal(r.config.server.workers, 1);
  });
  for (const value of ["auto", "4"]) {
    await t.step(value, async () => {
      const r = await parseConfig(yml("server:", `  workers: ${value}`, ...LOOPBACK, ...BACKEND));
      assert.ok(r.ok);
      assert.equal(r.config.server.workers, value === "auto" ? "auto" : 4);
    });
  }
});

Deno.test(
  "server.workers refuses what cannot be a number of isolates, where it is written",
  PARSE,
  async (t) => {
    const cases: Array<[string, string]> = [
      ["0", "0 is out of range: must be 1–256"],
      ["-2", "-2 is out of range: must be 1–256"],
      ["1.5", "expected integer 1–256, found 1.5"],
      ["257", "257 is out of range: must be 1–256"],
      ["many", 'expected "auto" | integer 1–256, found "many"'],
    ];
    for (const [value, message] of cases) {
      await t.step(value, async () => {
        assert.deepEqual(
          await problems(yml("server:", `  workers: ${value}`, ...LOOPBACK, ...BACKEND)),
          [`aegis.yml:2:12 server.workers: ${message}`],
        );
      });
    }
  },
);

Deno.test("server.workers above 1 refuses a Redis store and a udp listener", PARSE, async (t) => {
  await t.step("a Redis store", async () => {
    assert.deepEqual(
      await problems(yml(
        "server:",
        "  workers: 2",
        "rate_limit:",
        "  store:",
        "    type: redis",
        "    url: redis://127.0.0.1:6379",
        ...LOOPBACK,
        ...BACKEND,
      )),
      [
        "aegis.yml:5:11 rate_limit.store.type: redis cannot be combined with server.workers: 2 yet; use workers: 1 with a shared store, or a local store with workers",
      ],
    );
  });
  await t.step("a udp listener", async () => {
    assert.deepEqual(
      await problems(yml(
        "server:",
        "  workers: auto",
        "listeners:",
        "  - name: dns",
        "    protocol: udp",
        "    address: 127.0.0.1:5353",
        "    pool: dns",
        "pools:",
        "  dns:",
        "    backends:",
        "      - address: 127.0.0.1:53",
        "        weight: 1",
        ...LOOPBACK,
      )),
      [
        "aegis.yml:5:15 listeners[0].protocol: udp listeners run in one isolate: use server.workers: 1 with a udp listener (workers is auto)",
      ],
    );
  });
});

Deno.test(
  "a reload that changes server.workers is refused: it needs a restart",
  PARSE,
  async () => {
    const running = await testConfig(["http://127.0.0.1:9001"]);
    const next = await testConfig(["http://127.0.0.1:9001"], { server: { workers: 2 } });
    const plan = planReload(running, next);
    assert.ok(!plan.ok);
    assert.deepEqual(plan.problems, [
      "server.workers: the worker isolates are started once, with the process; restart Aegis",
    ]);
  },
);
