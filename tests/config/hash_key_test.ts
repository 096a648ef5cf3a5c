/**
 * `load_balancing.hash_key` is configuration syntax: config validation and
 * the consistent-hash policy read it through one parser.
 */

import assert from "node:assert/strict";
import { parseConfig, parseHashKey } from "../../src/config/mod.ts";
import { parseHashKey as poolParseHashKey } from "../../src/pool/balancer.ts";
import { fakeResolver } from "../_helpers/config.ts";

/** npm:yaml reads these to decide whether to trace. */
const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const BACKENDS = ["backends:", "  - url: http://93.184.216.34:8080", "    weight: 1"];

Deno.test(
  "parseHashKey() is one function, whether reached from config or pool",
  { permissions: "none" },
  () => {
    assert.equal(poolParseHashKey, parseHashKey);
  },
);

Deno.test(
  "parseConfig() accepts exactly the hash keys the consistent-hash policy can use",
  PARSE,
  async (t) => {
    for (const key of ["client_ip", "header:X-Tenant", "cookie:session", "header:", "ip", "x"]) {
      await t.step(key, async () => {
        const yaml = [...BACKENDS, "load_balancing:", `  hash_key: "${key}"`].join("\n");
        const result = await parseConfig(yaml, { resolver: fakeResolver({}) });
        if (parseHashKey(key)) {
          assert.ok(result.ok, JSON.stringify(result));
        } else {
          assert.ok(!result.ok, "refused");
          assert.match(
            result.diagnostics.map((d) => d.message).join("\n"),
            /is not client_ip, header:NAME or cookie:NAME/,
          );
        }
      });
    }
  },
);
