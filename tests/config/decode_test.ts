/**
 * The loader's defences against hostile or absurd files, through
 * `parseConfig` (the same decoding `loadConfigFile` runs in its worker):
 * linear work for aliases and keys, bounded problem lists, non-finite
 * numbers, values cut short in messages.
 */

import assert from "node:assert/strict";
import { Alias } from "yaml";
import {
  type Config,
  formatDiagnostic,
  MAX_DIAGNOSTICS,
  parseConfig,
} from "../../src/config/mod.ts";
import { backendAliasesYaml, unknownKeysYaml } from "../_helpers/big_config.ts";
import { fakeResolver } from "../_helpers/config.ts";

/** npm:yaml reads these to decide whether to trace. */
const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};
const FILE = "aegis.yml";
const resolver = fakeResolver({});
const BACKEND = "backends: [{url: http://93.184.216.34, weight: 1}]";

async function accept(text: string): Promise<Config> {
  const r = await parseConfig(text, { file: FILE, resolver });
  if (!r.ok) assert.fail(r.diagnostics.map((d) => formatDiagnostic(FILE, d)).join("\n"));
  return r.config;
}

async function reject(text: string): Promise<{ problems: string[]; omitted: number }> {
  const r = await parseConfig(text, { file: FILE, resolver });
  assert.equal(r.ok, false, "expected the configuration to be rejected");
  return r.ok
    ? { problems: [], omitted: 0 }
    : { problems: r.diagnostics.map((d) => formatDiagnostic(FILE, d)), omitted: r.omitted };
}

Deno.test(
  "parseConfig() follows 20,000 aliases without npm:yaml's per-alias walk of the document",
  PARSE,
  async () => {
    // Alias.resolve(doc) walks the whole document each time: 20,000 aliases
    // made it quadratic. The loader must never call it; make it fail loudly.
    const original = Object.getOwnPropertyDescriptor(Alias.prototype, "resolve")!;
    Object.defineProperty(Alias.prototype, "resolve", {
      ...original,
      value: () => {
        throw new Error("Alias.resolve called");
      },
    });
    try {
      const config = await accept(backendAliasesYaml(20_000));
      assert.equal(config.pools.default!.backends.length, 20_000);
      assert.ok(config.pools.default!.backends.every((b) => b.weight === 3));
    } finally {
      Object.defineProperty(Alias.prototype, "resolve", original);
    }
  },
);

Deno.test(
  "parseConfig() reports a duplicate key among 200,000 keys, where it is written",
  PARSE,
  async () => {
    const keys = Array.from({ length: 200_000 }, (_, i) => `  k${i}: 1`);
    const text = [BACKEND, "server:", ...keys, "  k199999: 2"].join("\n");
    assert.deepEqual(await reject(text), {
      problems: ["aegis.yml:200003:3 (syntax): Map keys must be unique"],
      omitted: 0,
    });
  },
);

Deno.test(
  `parseConfig() lists the first ${MAX_DIAGNOSTICS} of 90,000 problems and counts the rest`,
  PARSE,
  async () => {
    const { problems, omitted } = await reject(unknownKeysYaml(90_000));
    assert.equal(problems.length, MAX_DIAGNOSTICS);
    assert.equal(omitted, 90_000 - MAX_DIAGNOSTICS);
    assert.match(problems[0]!, /^aegis\.yml:3:3 server\.k0: unknown key "k0"; expected one of: /);
    assert.match(problems[99]!, /^aegis\.yml:102:3 server\.k2r: unknown key "k2r"/);
  },
);

Deno.test("parseConfig() refuses an alias bomb with one problem", PARSE, async () => {
  const lines = [BACKEND, "x0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let level = 1; level < 9; level++) {
    lines.push(`x${level}: &a${level} [${Array(10).fill(`*a${level - 1}`).join(", ")}]`);
  }
  const { problems } = await reject(lines.join("\n"));
  assert.equal(problems.length, 1);
  assert.match(
    problems[0]!,
    /^aegis\.yml:7:\d+ \(syntax\): aliases stand for more than 1000000 nodes; an alias bomb\?/,
  );
});

Deno.test("parseConfig() reports an alias whose anchor is missing", PARSE, async () => {
  assert.deepEqual((await reject(`${BACKEND}\nserver: {port: *p}\n`)).problems, [
    "aegis.yml:2:16 (syntax): alias *p has no anchor &p before it",
  ]);
});

Deno.test(
  "parseConfig() says a number is not finite instead of calling it null",
  PARSE,
  async (t) => {
    const cases: Array<[string, string, string]> = [
      ["  - {url: http://93.184.216.34, weight: 1e400}", "backends[0].weight", "1e400"],
      ["  - {url: http://93.184.216.34, weight: .inf}", "backends[0].weight", ".inf"],
      ["  - {url: http://93.184.216.34, weight: -.inf}", "backends[0].weight", "-.inf"],
      ["  - {url: http://93.184.216.34, weight: .NaN}", "backends[0].weight", ".NaN"],
      ["  - {url: http://93.184.216.34, weight: +.Inf}", "backends[0].weight", "+.Inf"],
    ];
    for (const [line, path, written] of cases) {
      await t.step(`weight: ${written}`, async () => {
        const { problems } = await reject(`backends:\n${line}\n`);
        assert.deepEqual(problems, [
          `aegis.yml:2:41 ${path}: ${written} is not a finite number; expected integer 1–10000`,
        ]);
      });
    }
    await t.step("a number field: rate_limit.requests_per_second: .inf", async () => {
      const { problems } = await reject(`${BACKEND}\nrate_limit: {requests_per_second: .inf}\n`);
      assert.deepEqual(problems, [
        "aegis.yml:2:35 rate_limit.requests_per_second: .inf is not a finite number; expected number > 0",
      ]);
    });
    await t.step("a duration: health_check.interval: .nan", async () => {
      const { problems } = await reject(`${BACKEND}\nhealth_check: {interval: .nan}\n`);
      assert.deepEqual(problems, [
        "aegis.yml:2:26 health_check.interval: .nan is not a finite number; expected duration",
      ]);
    });
    await t.step("a duration of 400 digits is out of range, not fractional", async () => {
      const { problems } = await reject(
        `${BACKEND}\nhealth_check: {interval: ${"9".repeat(400)}s}\n`,
      );
      assert.deepEqual(problems, [
        `aegis.yml:2:26 health_check.interval: "${
          "9".repeat(80)
        }…" (401 characters) is out of range: must be at most 24h`,
      ]);
    });
  },
);

Deno.test(
  "parseConfig() cuts a huge value short in every message that quotes it",
  PARSE,
  async (t) => {
    const huge = "x".repeat(1_048_576);
    const cut = `${"x".repeat(80)}…`;
    const cases: Record<string, [string, string]> = {
      "a string where a duration is expected": [
        `${BACKEND}\nserver: {read_timeout: ${huge}}\n`,
        `aegis.yml:2:24 server.read_timeout: invalid duration "${cut}" (1048576 characters): use a number and a unit (ms, s, m, h)`,
      ],
      "an unknown key, in the message and in the path": [
        `${BACKEND}\nserver: {${huge}: 1}\n`,
        `aegis.yml:2:10 server.${cut} (1048576 characters): unknown key "${cut}" (1048576 characters); expected one of: host, port, read_timeout, write_timeout, idle_timeout, max_header_bytes, max_body_bytes, shutdown_timeout, workers, max_connections, max_connections_per_client`,
      ],
      "a backend URL": [
        `backends: [{url: "${huge}", weight: 1}]\n`,
        `aegis.yml:1:18 backends[0].url: "${cut}" (1048576 characters) is not an absolute URL (http://host:port)`,
      ],
      "a port of a million digits": [
        `backends: [{url: "http://h:${"9".repeat(1_000_000)}", weight: 1}]\n`,
        `aegis.yml:1:18 backends[0].url: port ${
          "9".repeat(80)
        }… (1000000 characters) is out of range: must be 1–65535`,
      ],
      "a block scalar header the YAML parser quotes": [
        `${BACKEND}\nserver: |${huge}\n  a\n`,
        `aegis.yml:2:10 (syntax): Block scalar header includes extra characters: |${
          "x".repeat(152)
        }… (1048624 characters)`,
      ],
    };
    for (const [name, [text, expected]] of Object.entries(cases)) {
      await t.step(name, async () => {
        const { problems } = await reject(text);
        assert.deepEqual(problems, [expected]);
      });
    }
  },
);

Deno.test(
  "parseConfig() reports keys named like Object.prototype members as unknown",
  PARSE,
  async (t) => {
    for (const key of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      await t.step(key, async () => {
        const { problems } = await reject(`${BACKEND}\n${key}: 1\n`);
        assert.equal(problems.length, 1);
        assert.match(problems[0]!, new RegExp(`^aegis\\.yml:2:1 ${key}: unknown key "${key}"`));
      });
    }
  },
);
