/**
 * The CA bundle an `https` backend is verified against (`upstream.ca_file`):
 * a PEM file of one or more certificates, checked when the configuration is
 * loaded so that a wrong path or a file of garbage is a positioned error
 * rather than every request to the pool failing its handshake.
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import { readPemText } from "./_pem_file.ts";

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Reads and checks a CA bundle: each certificate in it, as PEM text (what
 * the runtime's TLS clients take as `caCerts`).
 *
 * @throws {Error} saying what is wrong: unreadable, no certificate in it, a
 * block that is not an X.509 certificate
 * @example
 * ```ts
 * const caCerts = loadCaBundle("/etc/aegis/internal-ca.pem");
 * const conn = await Deno.connectTls({ hostname: "10.0.0.5", port: 8443, caCerts });
 * ```
 */
export function loadCaBundle(path: string): string[] {
  const text = readPemText(path);
  const blocks = text.match(BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new Error(`${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  blocks.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new Error(
        `${path}: certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate`,
      );
    }
  });
  return blocks;
}
