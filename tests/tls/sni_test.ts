import assert from "node:assert/strict";
import { selectCertificate } from "../../src/tls/mod.ts";

const first = { id: "first", names: ["first.test"] };
const wild = { id: "wild", names: ["*.example.test"] };
const api = { id: "api", names: ["api.example.test"] };
const all = [first, wild, api];

Deno.test("selectCertificate() takes the exact name, then the wildcard, the first otherwise", () => {
  assert.equal(selectCertificate(all, "api.example.test").id, "api");
  assert.equal(selectCertificate(all, "API.Example.Test.").id, "api", "any case, a trailing dot");
  assert.equal(selectCertificate(all, "www.example.test").id, "wild");
  assert.equal(
    selectCertificate(all, "a.b.example.test").id,
    "first",
    "a wildcard covers one label",
  );
  assert.equal(selectCertificate(all, "example.test").id, "first", "nor the bare domain");
  assert.equal(selectCertificate(all, "").id, "first", "no SNI");
});
