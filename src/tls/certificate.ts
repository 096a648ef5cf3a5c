/**
 * Reading a listener's certificate and private key: both PEM files, checked
 * before they are served so that a mistake is a positioned configuration
 * error rather than a handshake that fails for every client. The checks are
 * the ones an operator trips on: a wrong path, an unreadable file, garbage
 * instead of PEM, a key that belongs to another certificate, a certificate
 * that has expired. `node:crypto`'s `X509Certificate` reads the subject, the
 * names (subjectAltName) and the expiry that `aegis check`, the SNI choice
 * and the expiry metric use.
 *
 * @module
 */

import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readPemText } from "./_pem_file.ts";

export { MAX_PEM_BYTES } from "./_pem_file.ts";

/** Where a certificate and its key are, as the configuration names them. */
export interface CertificateFiles {
  /** PEM certificate, the server's first, then its chain. */
  readonly certFile: string;
  /** PEM private key of that certificate (PKCS#8, PKCS#1 or SEC1). */
  readonly keyFile: string;
}

/** A certificate and key read, checked and ready to serve. */
export interface LoadedCertificate extends CertificateFiles {
  /** The certificate file's PEM text. */
  readonly cert: string;
  /** The key file's PEM text. */
  readonly key: string;
  /** The subject, one line: `CN=example.com, O=Example`. */
  readonly subject: string;
  /** The DNS names it is for (subjectAltName; the common name when it has none), lower case. */
  readonly names: readonly string[];
  /** When it expires, epoch milliseconds. */
  readonly notAfter: number;
}

/** Why a certificate or key cannot be served, and which of the two files is at fault. */
export class CertificateError extends Error {
  constructor(
    /** `cert_file` or `key_file`: the configuration field to blame. */
    readonly field: "cert_file" | "key_file",
    message: string,
  ) {
    super(message);
    this.name = "CertificateError";
  }
}

/**
 * Reads and checks a certificate and its key.
 *
 * @param now wall-clock time the expiry is judged against, epoch milliseconds
 * @throws {CertificateError} naming the file at fault and why
 * @example
 * ```ts
 * const c = loadCertificate({ certFile: "site.pem", keyFile: "site.key" }, Date.now());
 * c.names; // ["example.com", "*.example.com"]
 * ```
 */
export function loadCertificate(files: CertificateFiles, now: number): LoadedCertificate {
  const cert = readPem(files.certFile, "cert_file");
  const key = readPem(files.keyFile, "key_file");
  const x509 = parseCertificate(cert, files.certFile);
  const privateKey = parseKey(key, files.keyFile);
  // [SECURITY] A key that is not the certificate's would fail every
  // handshake; refusing it here keeps the previous certificate serving on a reload.
  if (!x509.checkPrivateKey(privateKey)) {
    throw new CertificateError(
      "key_file",
      `${files.keyFile} is not the private key of the certificate in ${files.certFile}`,
    );
  }
  const notAfter = x509.validToDate.getTime();
  if (notAfter <= now) {
    throw new CertificateError(
      "cert_file",
      `the certificate in ${files.certFile} expired on ${x509.validToDate.toISOString()}`,
    );
  }
  const notBefore = x509.validFromDate.getTime();
  if (notBefore > now) {
    throw new CertificateError(
      "cert_file",
      `the certificate in ${files.certFile} is not valid before ${x509.validFromDate.toISOString()}`,
    );
  }
  const subject = x509.subject.split("\n").join(", ");
  return { ...files, cert, key, subject, names: namesOf(x509), notAfter };
}

/** The DNS names of a certificate: its subjectAltName entries, else its common name. */
function namesOf(x509: X509Certificate): string[] {
  const sans = (x509.subjectAltName ?? "").split(",").map((s) => s.trim())
    .filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4).toLowerCase());
  if (sans.length > 0) return sans;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

function readPem(path: string, field: "cert_file" | "key_file"): string {
  try {
    return readPemText(path);
  } catch (e) {
    throw new CertificateError(field, (e as Error).message);
  }
}

function parseCertificate(pem: string, path: string): X509Certificate {
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new CertificateError(
      "cert_file",
      `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  try {
    return new X509Certificate(pem);
  } catch {
    throw new CertificateError(
      "cert_file",
      `${path} holds a PEM block that is not a valid X.509 certificate`,
    );
  }
}

function parseKey(pem: string, path: string): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new CertificateError(
      "key_file",
      `${path} holds no PEM private key (-----BEGIN PRIVATE KEY-----)`,
    );
  }
  try {
    return createPrivateKey(pem);
  } catch {
    throw new CertificateError(
      "key_file",
      `${path} holds a PEM block that is not a valid private key`,
    );
  }
}

/**
 * Which of `certificates` expire within `withinMs` of `now`, for the warning
 * at start and reload.
 */
export function expiringSoon(
  certificates: readonly LoadedCertificate[],
  now: number,
  withinMs: number,
): LoadedCertificate[] {
  return certificates.filter((c) => c.notAfter - now <= withinMs);
}

/** How soon an expiry earns a warning: certbot renews 30 days ahead, so 14 days means renewal failed. */
export const EXPIRY_WARNING_MS = 14 * 24 * 60 * 60 * 1000;
