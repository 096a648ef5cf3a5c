/**
 * `security.hsts`: off unless written, inherited by listeners like the
 * request filters, and preload refused unless it meets the preload lists'
 * rules, each problem at its line.
 */

import assert from "node:assert/strict";
import { listener, PARSE, POOLS, problems, valid, yml } from "./_topology.ts";

Deno.test(
  "security.hsts is off unless written, and a listener inherits or overrides it",
  PARSE,
  async () => {
    const off = await valid(yml("listeners:", ...listener("web", "0.0.0.0:8080"), ...POOLS));
    assert.equal(off.listeners[0]!.security.hsts, undefined);

    const config = await valid(yml(
      "security:",
      "  hsts: { max_age: 8760h, include_subdomains: true }",
      "listeners:",
      ...listener("web", "0.0.0.0:8080"),
      ...listener("api", "0.0.0.0:8081"),
      "    security: { hsts: { max_age: 0s } }",
      ...POOLS,
    ));
    assert.deepEqual(config.listeners[0]!.security.hsts, {
      max_age: 31_536_000_000,
      include_subdomains: true,
      preload: false,
    });
    // max-age=0 is how a site withdraws its policy (RFC 6797 §6.1.1).
    assert.deepEqual(config.listeners[1]!.security.hsts, {
      max_age: 0,
      include_subdomains: false,
      preload: false,
    });
  },
);

Deno.test("security.hsts: preload and max_age problems are positioned errors", PARSE, async (t) => {
  await t.step("preload without include_subdomains", async () => {
    assert.deepEqual(
      await problems(yml(
        "security:",
        "  hsts: { max_age: 8760h, preload: true }",
        "listeners:",
        ...listener("web", "0.0.0.0:8080"),
        ...POOLS,
      )),
      [
        "aegis.yml:2:36 security.hsts.preload: needs include_subdomains: true (preload covers every subdomain)",
      ],
    );
  });
  await t.step("preload with less than a year, on a listener", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        ...listener("web", "0.0.0.0:8080"),
        "    security:",
        "      hsts: { max_age: 24h, include_subdomains: true, preload: true }",
        ...POOLS,
      )),
      [
        "aegis.yml:7:64 listeners[0].security.hsts.preload: needs max_age of at least a year (8760h); it is 86400s",
      ],
    );
  });
  await t.step("max_age missing, not whole seconds, or not a duration", async () => {
    assert.deepEqual(
      await problems(yml(
        "security:",
        "  hsts: { include_subdomains: true }",
        "listeners:",
        ...listener("web", "0.0.0.0:8080"),
        "    security: { hsts: { max_age: 1500ms } }",
        ...listener("api", "0.0.0.0:8081"),
        "    security: { hsts: { max_age: 31536000 } }",
        ...POOLS,
      )),
      [
        "aegis.yml:2:9 security.hsts.max_age: is required",
        "aegis.yml:8:34 listeners[0].security.hsts.max_age: must be a whole number of seconds",
        'aegis.yml:13:34 listeners[1].security.hsts.max_age: expected a duration such as "250ms", "5s" or "2m", found 31536000',
      ],
    );
  });
});
