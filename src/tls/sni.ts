/**
 * Choosing the certificate for a TLS handshake from the name the client
 * asked for (SNI, RFC 6066 §3): an exact name first, then a wildcard
 * (`*.example.com` covers `api.example.com`, one label only, as RFC 6125
 * §6.4.3 has clients check it), and the first certificate otherwise, so
 * that clients that send no name (or an IP address) still get one.
 *
 * @module
 */

/** What the choice needs of a certificate. */
export interface Named {
  /** DNS names, lower case; wildcards as `*.example.com`. */
  readonly names: readonly string[];
}

/**
 * The certificate to present for `serverName` (`""` when the client sent none).
 *
 * @example
 * ```ts
 * const a = { names: ["a.test"] }, b = { names: ["*.b.test"] };
 * selectCertificate([a, b], "x.b.test"); // b
 * selectCertificate([a, b], "other.test"); // a
 * ```
 */
export function selectCertificate<C extends Named>(
  certificates: readonly C[],
  serverName: string,
): C {
  const name = serverName.toLowerCase().replace(/\.$/, "");
  const exact = certificates.find((c) => c.names.includes(name));
  if (exact) return exact;
  const dot = name.indexOf(".");
  if (dot > 0) {
    const wildcard = `*${name.slice(dot)}`;
    const match = certificates.find((c) => c.names.includes(wildcard));
    if (match) return match;
  }
  return certificates[0]!;
}
