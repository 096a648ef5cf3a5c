/**
 * `listeners[].redirect_to_https`: a plain http listener with no routes;
 * everything else is a positioned error.
 */

import assert from "node:assert/strict";
import { PARSE, POOLS, problems, valid, yml } from "./_topology.ts";

Deno.test(
  "redirect_to_https: a listener with no routes, printed back without any",
  PARSE,
  async () => {
    const config = await valid(
      yml(
        "listeners:",
        "  - name: http",
        "    address: 0.0.0.0:80",
        "    redirect_to_https: 443",
        "  - name: web",
        "    address: 0.0.0.0:8080",
        "    routes: [{ pool: web }]",
        ...POOLS,
      ),
    );
    const http = config.listeners[0]!;
    assert.equal(http.redirect_to_https, 443);
    assert.equal(http.routes, undefined);
  },
);

Deno.test(
  "redirect_to_https: routes, tls, an L4 listener or a bad port are positioned errors",
  PARSE,
  async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        "  - name: a",
        "    address: 0.0.0.0:80",
        "    redirect_to_https: 443",
        "    routes: [{ pool: web }]",
        "  - name: b",
        "    address: 0.0.0.0:81",
        "    redirect_to_https: 443",
        "    tls: { certificates: [{ cert_file: c.pem, key_file: c.key }] }",
        "  - name: c",
        "    protocol: tcp",
        "    address: 0.0.0.0:82",
        "    pool: l4",
        "    redirect_to_https: 443",
        "  - name: d",
        "    address: 0.0.0.0:83",
        "    redirect_to_https: 0",
        ...POOLS,
        "  l4:",
        "    backends: [{ address: 'h:9', weight: 1 }]",
      )).then((p) => p.filter((line) => !line.includes("cert_file") && !line.includes("key_file"))),
      [
        "aegis.yml:5:13 listeners[0].routes: a listener with redirect_to_https answers every request with a redirect: remove its routes",
        "aegis.yml:8:24 listeners[1].redirect_to_https: is for a plain-HTTP listener; this one has tls, so its clients are on https already",
        "aegis.yml:14:24 listeners[2].redirect_to_https: is for http listeners only",
        "aegis.yml:17:24 listeners[3].redirect_to_https: 0 is out of range: must be 1–65535",
      ],
    );
  },
);
