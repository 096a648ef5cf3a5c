import assert from "node:assert/strict";
import { formatDiagnostic, formatWarning, parseConfig } from "../../src/config/mod.ts";
import { createPki } from "../_helpers/tls.ts";

/** An expanded configuration whose first listener carries `tls` (YAML lines, indented 4). */
function withTls(tls: string, protocol = "http"): string {
  const target = protocol === "http" ? "    routes: [{ pool: p }]\n" : "    pool: l4\n";
  return `listeners:
  - name: web
    protocol: ${protocol}
    address: 127.0.0.1:0
${target}    tls:
${tls}
pools:
  p:
    backends: [{ url: "http://127.0.0.1:9", weight: 1 }]
  l4:
    backends: [{ address: "127.0.0.1:9", weight: 1 }]
development: { allow_loopback_backends: true }
`;
}

async function problems(text: string): Promise<string[]> {
  const r = await parseConfig(text, { file: "aegis.yml" });
  return r.ok ? [] : r.diagnostics.map((d) => formatDiagnostic("aegis.yml", d));
}

Deno.test("tls: every bad certificate file is a positioned error", async (t) => {
  await using pki = await createPki();
  const site = await pki.issue("site", ["site.test"]);
  const other = await pki.issue("other", ["other.test"]);
  const expired = await pki.issue("expired", ["old.test"], -1);
  const pair = (cert: string, key: string) =>
    `      certificates:\n        - cert_file: ${cert}\n          key_file: ${key}`;
  await t.step("a good pair loads", async () => {
    const r = await parseConfig(withTls(pair(site.certFile, site.keyFile)));
    assert.ok(r.ok);
    assert.equal(r.config.listeners[0]!.tls!.min_version, "1.2");
  });
  await t.step("a missing file, at its line", async () => {
    assert.deepEqual(await problems(withTls(pair(`${pki.dir}/none.pem`, site.keyFile))), [
      `aegis.yml:8:22 listeners[0].tls.certificates[0].cert_file: cannot read ${pki.dir}/none.pem: no such file`,
    ]);
  });
  await t.step("a key that is not the certificate's", async () => {
    const [p] = await problems(withTls(pair(site.certFile, other.keyFile)));
    assert.match(
      p!,
      /^aegis\.yml:9:\d+ listeners\[0\]\.tls\.certificates\[0\]\.key_file: .* is not the private key/,
    );
  });
  await t.step("an expired certificate", async () => {
    const [p] = await problems(withTls(pair(expired.certFile, expired.keyFile)));
    assert.match(p!, /cert_file: the certificate in .* expired on/);
  });
  await t.step("min_version 1.3 is refused, with the reason", async () => {
    const [p] = await problems(
      withTls(`${pair(site.certFile, site.keyFile)}\n      min_version: "1.3"`),
    );
    assert.match(p!, /min_version: 1\.3 cannot be enforced: Deno's TLS \(rustls\)/);
  });
  await t.step("tls on a tcp listener", async () => {
    const [p] = await problems(withTls(pair(site.certFile, site.keyFile), "tcp"));
    assert.match(p!, /^aegis\.yml:\d+:\d+ listeners\[0\]\.tls: is for http listeners only/);
  });
  await t.step("an empty certificate list", async () => {
    const [p] = await problems(withTls("      certificates: []"));
    assert.match(p!, /listeners\[0\]\.tls\.certificates: /);
  });
});

Deno.test("tls: a certificate expiring within 14 days is a warning", async () => {
  await using pki = await createPki();
  const soon = await pki.issue("soon", ["soon.test"], 5);
  const r = await parseConfig(
    withTls(
      `      certificates:\n        - cert_file: ${soon.certFile}\n          key_file: ${soon.keyFile}`,
    ),
    { file: "aegis.yml" },
  );
  assert.ok(r.ok);
  const warnings = r.warnings.filter((w) => w.path.includes(".tls."));
  assert.equal(warnings.length, 1);
  assert.match(
    formatWarning("aegis.yml", warnings[0]!),
    /^aegis\.yml:8:\d+ listeners\[0\]\.tls\.certificates\[0\]\.cert_file: warning: the certificate for CN=soon\.test expires in 4 days/,
  );
});
