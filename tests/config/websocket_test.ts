/**
 * `listeners[].websocket` in the configuration: defaults on http listeners,
 * partial sections filled, and every misuse a positioned error. Real YAML
 * through the real loader.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { fakeResolver } from "../_helpers/config.ts";
import { PARSE, problems, yml } from "./_topology.ts";

const resolver = fakeResolver({ h: ["93.184.216.34"] });

const web = (...websocket: string[]) =>
  yml(
    "listeners:",
    "  - name: web",
    "    address: 0.0.0.0:8080",
    "    routes: [{ pool: web }]",
    ...websocket,
    "pools:",
    "  web:",
    "    backends: [{ url: http://h, weight: 1 }]",
  );

Deno.test(
  "an http listener's websocket section: off by default, a partial one filled in",
  PARSE,
  async () => {
    const plain = await parseConfig(web(), { file: "aegis.yml", resolver });
    assert.ok(plain.ok);
    assert.deepEqual(plain.config.listeners[0]!.websocket, {
      enabled: false,
      idle_timeout: 300_000,
      allowed_origins: [],
      max_connections: 10_000,
      max_connections_per_client: 64,
    });
    const partial = await parseConfig(
      web("    websocket: { enabled: true, allowed_origins: [https://app.example:8443] }"),
      { file: "aegis.yml", resolver },
    );
    assert.ok(partial.ok, partial.ok ? "" : JSON.stringify(partial.diagnostics));
    const ws = partial.config.listeners[0]!.websocket!;
    assert.deepEqual([ws.enabled, ws.allowed_origins, ws.idle_timeout], [
      true,
      ["https://app.example:8443"],
      300_000,
    ]);
  },
);

Deno.test("websocket misuse is an error where it is written", PARSE, async (t) => {
  await t.step("on a tcp listener", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        "  - name: db",
        "    protocol: tcp",
        "    address: 0.0.0.0:5432",
        "    pool: pg",
        "    websocket: { enabled: true }",
        "pools:",
        "  pg:",
        "    backends: [{ address: h:5432, weight: 1 }]",
      )),
      [
        "aegis.yml:6:16 listeners[0].websocket: is for http listeners only; a tcp listener forwards bytes as they come (a WebSocket passes through as any connection)",
      ],
    );
  });
  await t.step("origins that are not what a browser sends", async () => {
    assert.deepEqual(
      await problems(web(
        "    websocket:",
        "      allowed_origins: [https://app.example/, app.example, 'https://app.example:443']",
      )),
      [
        'aegis.yml:6:25 listeners[0].websocket.allowed_origins[0]: "https://app.example/" is not an origin: write scheme://host[:port], as browsers send it (https://app.example)',
        'aegis.yml:6:47 listeners[0].websocket.allowed_origins[1]: "app.example" is not an origin (https://app.example.com)',
        'aegis.yml:6:60 listeners[0].websocket.allowed_origins[2]: "https://app.example:443" is not an origin: write scheme://host[:port], as browsers send it (https://app.example)',
      ],
    );
  });
  await t.step("caps and timeouts out of range, unknown keys", async () => {
    const found = await problems(web(
      "    websocket: { max_connections: 0, idle_timeout: forever, tunnel: yes }",
    ));
    assert.equal(found.length, 3, found.join("\n"));
    assert.match(found.join("\n"), /websocket\.max_connections: 0 is out of range/);
    assert.match(found.join("\n"), /websocket\.idle_timeout: /);
    assert.match(found.join("\n"), /websocket\.tunnel: /);
  });
});
