import assert from "node:assert/strict";
import { sniResolverKey } from "../../src/server/_tls_listen.ts";

Deno.test("the runtime still has the certificate resolver SNI needs (Deno[Deno.internal].resolverSymbol)", () => {
  // If a Deno upgrade removes it, a listener with several certificates
  // serves the first to everyone: this test says so before users do.
  assert.equal(typeof sniResolverKey(), "symbol");
});
