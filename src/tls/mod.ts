/**
 * TLS certificates: reading and checking them (`certificate.ts`),
 * choosing one by the client's server name (`sni.ts`), and the CA bundles
 * backends are verified against (`ca_bundle.ts`). The listener that serves
 * them is `server/`'s; the clients that verify backends are `h1/`'s and
 * `proxy/`'s.
 *
 * @module
 */

export {
  CertificateError,
  type CertificateFiles,
  expiringSoon,
  EXPIRY_WARNING_MS,
  loadCertificate,
  type LoadedCertificate,
  MAX_PEM_BYTES,
} from "./certificate.ts";
export { type Named, selectCertificate } from "./sni.ts";
export { loadCaBundle } from "./ca_bundle.ts";
