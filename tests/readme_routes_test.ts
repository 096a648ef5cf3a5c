/**
 * README.md's routing examples are true: each example file is loaded by the
 * real loader and built into a real runtime, and every request line under
 * it is sent, fetch-shaped, to check the pool and the target it claims.
 */

import assert from "node:assert/strict";
import { formatDiagnostic, parseConfig } from "../src/config/mod.ts";
import { buildRuntime } from "../src/runtime/mod.ts";
import { testShared } from "./_helpers/runtime.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const section = /### Routing examples\n([\s\S]*?)\n### /.exec(readme)?.[1] ?? "";
const CLIENT = { ip: "203.0.113.9", port: 5000, proto: "http", listenerPort: 8080 } as const;

/** Each example: a YAML file and the request lines after it. */
const examples = [...section.matchAll(/```yaml\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/g)].map(
  (m) => ({ yaml: m[1]!, lines: m[2]!.trim().split("\n") }),
);

Deno.test("README.md has routing examples to check", () => {
  assert.ok(examples.length >= 6, `found ${examples.length}`);
});

for (const [i, example] of examples.entries()) {
  Deno.test(`README.md routing example ${i + 1} routes as it says`, {
    permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
  }, async (t) => {
    // The examples' backends are private addresses: trust them, as a real file would.
    const text = example.yaml + "security: { allowed_backend_networks: [10.0.0.0/8] }\n";
    const r = await parseConfig(text, { file: "README.md" });
    assert.ok(r.ok, r.ok ? "" : r.diagnostics.map((d) => formatDiagnostic("x", d)).join("\n"));
    using shared = testShared();
    const runtime = buildRuntime(r.config, shared.shared);
    const handler = [...runtime.listeners.values()][0]!.handler;
    const poolOf = new Map(
      Object.entries(r.config.pools).map(([name, p]) => [new URL(p.backends[0]!.url!).host, name]),
    );
    for (const line of example.lines) {
      await t.step(line, async () => {
        const m = /^(\w+)\s+(\S+)\s+→\s+(\S+)(?:\s+(\S+))?$/.exec(line.trim());
        assert.ok(m, `unreadable line: ${line}`);
        const [, method, url, where, target] = m;
        const res = await handler(new Request(url!, { method }), CLIENT);
        const body = await res.text();
        if (where === "404") {
          assert.equal(res.status, 404);
          return;
        }
        assert.equal(res.status, 200, body);
        const upstream = new URL(body);
        assert.equal(poolOf.get(upstream.host), where);
        assert.equal(body.slice(upstream.origin.length), target);
      });
    }
    runtime.stop();
  });
}
