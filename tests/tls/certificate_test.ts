import assert from "node:assert/strict";
import { CertificateError, loadCertificate } from "../../src/tls/mod.ts";
import { createPki } from "../_helpers/tls.ts";

function fails(files: { certFile: string; keyFile: string }, field: string, message: RegExp) {
  assert.throws(() => loadCertificate(files, Date.now()), (e: unknown) => {
    assert.ok(e instanceof CertificateError);
    assert.equal(e.field, field);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("loadCertificate() reads subject, names and expiry, and refuses every bad file clearly", async (t) => {
  await using pki = await createPki();
  const site = await pki.issue("site", ["site.test", "*.site.test"], 10);
  const other = await pki.issue("other", ["other.test"]);
  await t.step("a good pair", () => {
    const c = loadCertificate(site, Date.now());
    assert.equal(c.subject, "CN=site.test");
    assert.deepEqual(c.names, ["site.test", "*.site.test"]);
    const days = (c.notAfter - Date.now()) / 86_400_000;
    assert.ok(days > 9 && days <= 10, `expires in ${days} days`);
  });
  await t.step("a missing file", () => {
    fails(
      { ...site, certFile: `${pki.dir}/nope.pem` },
      "cert_file",
      /cannot read .*nope\.pem: no such file/,
    );
    fails({ ...site, keyFile: `${pki.dir}/nope.key` }, "key_file", /no such file/);
  });
  await t.step(
    "a directory",
    () => fails({ ...site, certFile: pki.dir }, "cert_file", /not a regular file/),
  );
  await t.step("garbage instead of PEM", async () => {
    const garbage = `${pki.dir}/garbage`;
    await Deno.writeTextFile(garbage, "hello");
    fails({ ...site, certFile: garbage }, "cert_file", /holds no PEM certificate/);
    fails({ ...site, keyFile: garbage }, "key_file", /holds no PEM private key/);
    await Deno.writeTextFile(
      garbage,
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    fails({ ...site, certFile: garbage }, "cert_file", /not a valid X\.509 certificate/);
  });
  await t.step("a key of another certificate", () => {
    fails(
      { ...site, keyFile: other.keyFile },
      "key_file",
      /is not the private key of the certificate/,
    );
  });
  await t.step("an expired certificate", async () => {
    const old = await pki.issue("old", ["old.test"], -1);
    fails(old, "cert_file", /expired on \d{4}-/);
  });
});
