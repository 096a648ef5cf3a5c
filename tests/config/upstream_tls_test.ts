/**
 * `upstream.ca_file` and `upstream.server_name`: the CA bundle is read and
 * checked at load, each problem at its line; a server name must be a host
 * name or an address.
 */

import assert from "node:assert/strict";
import { listener, PARSE, POOLS, problems, valid, yml } from "./_topology.ts";
import { createPki } from "../_helpers/tls.ts";

const FILES = { permissions: { ...PARSE.permissions, read: true, write: true, run: ["openssl"] } };

Deno.test(
  "upstream.ca_file: a bundle that cannot serve is a positioned error",
  FILES,
  async (t) => {
    await using pki = await createPki();
    const garbage = `${pki.dir}/garbage.pem`;
    await Deno.writeTextFile(garbage, "not a certificate\n");
    const broken = `${pki.dir}/broken.pem`;
    await Deno.writeTextFile(
      broken,
      `${await Deno.readTextFile(
        pki.caFile,
      )}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
    );
    const key = `${pki.dir}/ca.key`;
    await t.step("a good bundle loads, inherited by every pool", async () => {
      const config = await valid(
        yml(
          `upstream: { ca_file: ${pki.caFile} }`,
          "listeners:",
          ...listener("web", "0.0.0.0:8080"),
          ...POOLS,
        ),
      );
      assert.equal(config.pools.web!.upstream.ca_file, pki.caFile);
    });
    await t.step("missing, garbage, a broken certificate, a key instead", async () => {
      assert.deepEqual(
        await problems(yml(
          `upstream: { ca_file: ${pki.dir}/none.pem }`,
          "listeners:",
          ...listener("web", "0.0.0.0:8080"),
          ...POOLS,
          `    upstream: { ca_file: ${garbage} }`,
          "  b:",
          "    backends: [{ url: http://h, weight: 1 }]",
          `    upstream: { ca_file: ${broken} }`,
          "  c:",
          "    backends: [{ url: http://h, weight: 1 }]",
          `    upstream: { ca_file: ${key} }`,
        )),
        [
          `aegis.yml:1:22 upstream.ca_file: cannot read ${pki.dir}/none.pem: no such file`,
          `aegis.yml:11:26 pools.web.upstream.ca_file: ${garbage} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
          `aegis.yml:14:26 pools.b.upstream.ca_file: ${broken}: certificate 2 of 2 is not a valid X.509 certificate`,
          `aegis.yml:17:26 pools.c.upstream.ca_file: ${key} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
        ],
      );
    });
  },
);

Deno.test("upstream.server_name must be a host name or an address", PARSE, async () => {
  assert.deepEqual(
    await problems(yml(
      "upstream: { server_name: 'api internal' }",
      "listeners:",
      ...listener("web", "0.0.0.0:8080"),
      ...POOLS,
    )),
    [`aegis.yml:1:26 upstream.server_name: "api internal" is not an IP address or host name`],
  );
});
