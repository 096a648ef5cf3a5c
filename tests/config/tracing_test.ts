/** The `tracing` section: defaults, and a positioned error for each bad value. */

import assert from "node:assert/strict";
import { formatDiagnostic, parseConfig } from "../../src/config/mod.ts";
import { fakeResolver } from "../_helpers/config.ts";

/** npm:yaml reads these to decide whether to trace. */
const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};
const FILE = "aegis.yml";
const BACKEND = "backends: [{url: http://93.184.216.34, weight: 1}]";

async function problems(tracing: string): Promise<string[]> {
  const r = await parseConfig(`${BACKEND}\ntracing:\n${tracing}\n`, {
    file: FILE,
    resolver: fakeResolver({}),
  });
  return r.ok ? [] : r.diagnostics.map((d) => formatDiagnostic(FILE, d));
}

Deno.test(
  "tracing is off by default, pointed at a local collector, sampling every new trace",
  PARSE,
  async () => {
    const r = await parseConfig(BACKEND, { file: FILE, resolver: fakeResolver({}) });
    assert.ok(r.ok);
    assert.deepEqual(r.config.tracing, {
      enabled: false,
      endpoint: "http://127.0.0.1:4318/v1/traces",
      sampling_ratio: 1,
      service_name: "aegis",
    });
  },
);

Deno.test("tracing fields with bad values are positioned errors", PARSE, async (t) => {
  const cases: Array<[string, string]> = [
    ["  endpoint: collector:4318", "aegis.yml:3:13 tracing.endpoint: scheme must be http or https"],
    ["  endpoint: not a url", 'aegis.yml:3:13 tracing.endpoint: "not a url" is not a URL'],
    [
      "  endpoint: http://user:pw@collector:4318/v1/traces",
      "aegis.yml:3:13 tracing.endpoint: must not contain credentials",
    ],
    ["  sampling_ratio: 1.5", "aegis.yml:3:19 tracing.sampling_ratio: 1.5 is out of range"],
    ["  sampling_ratio: -0.1", "aegis.yml:3:19 tracing.sampling_ratio: -0.1 is out of range"],
    ["  service_name: ''", "aegis.yml:3:17 tracing.service_name: must not be empty"],
    ["  enabled: yes", "aegis.yml:3:12 tracing.enabled: expected true or false"],
    ["  exporter: jaeger", "aegis.yml:3:3 tracing.exporter"],
  ];
  for (const [yaml, expected] of cases) {
    await t.step(yaml.trim(), async () => {
      const found = await problems(yaml);
      assert.equal(found.length, 1, found.join("\n"));
      assert.ok(found[0]!.startsWith(expected), `${found[0]}\n  does not start with\n${expected}`);
    });
  }
});
