/**
 * TLS certificates: reading and checking them (`certificate.ts`) and
 * choosing one by the client's server name (`sni.ts`). The listener that
 * serves them is `server/`'s.
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
