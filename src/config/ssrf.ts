/**
 * The startup SSRF check: every backend host is resolved and each address it
 * resolves to must be an ordinary public address. A proxy that can be
 * configured (or tricked through DNS) into reaching `127.0.0.1`, a private
 * network or a cloud metadata endpoint is a way into the inside.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { type Cidr, cidrContains, classifyAddress, formatIp, parseIp } from "../net/mod.ts";
import { clip, quote } from "./echo.ts";

/** Resolves a host name to the addresses a connection would use. */
export type Resolver = (hostname: string) => Promise<string[]>;

const LOOKUP_TIMEOUT_MS = 5000;

/**
 * The system resolver (`getaddrinfo`, so `/etc/hosts` counts exactly as it
 * will when `fetch` connects), bounded to five seconds per host.
 */
export const systemResolver: Resolver = async (hostname) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`DNS lookup timed out after ${LOOKUP_TIMEOUT_MS / 1000}s`)),
      LOOKUP_TIMEOUT_MS,
    );
  });
  try {
    const found = await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
    return found.map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
};

/** What the SSRF check may let through. */
export interface SsrfPolicy {
  /** `development.allow_loopback_backends`: permits loopback and nothing else. */
  readonly allowLoopback: boolean;
  /** `security.allowed_backend_networks`: explicitly trusted networks. */
  readonly allowedNetworks: readonly Cidr[];
  /** How host names are resolved. */
  readonly resolver: Resolver;
}

/**
 * Checks one backend URL against the policy. Returns a message naming the
 * offending address, or `undefined` when every address is acceptable.
 * Metadata endpoints are refused even inside an allowed network.
 */
export async function checkBackendAddress(
  url: string,
  policy: SsrfPolicy,
): Promise<string | undefined> {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: string[];
  if (parseIp(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await policy.resolver(host);
    } catch (e) {
      const why = (e as { code?: string }).code ?? (e instanceof Error ? e.message : String(e));
      return `cannot resolve host ${quote(host)}: ${clip(why)}`;
    }
    if (addresses.length === 0) return `host ${quote(host)} resolves to no address`;
  }
  // [SECURITY] SSRF: every address a backend's name resolves to must be
  // public (or explicitly trusted); loopback, private, link-local and the
  // cloud metadata address would let a config turn Aegis into a way inside.
  for (const text of addresses) {
    const ip = parseIp(text);
    if (!ip) return `host ${quote(host)} resolved to an unreadable address ${quote(text)}`;
    const cls = classifyAddress(ip);
    if (cls === undefined) continue;
    if (cls === "loopback" && policy.allowLoopback) continue;
    if (cls !== "metadata" && policy.allowedNetworks.some((n) => cidrContains(n, ip))) continue;
    const what = parseIp(host) ? `${formatIp(ip)} is` : `host ${quote(host)} resolves to ${text},`;
    const hint = cls === "loopback"
      ? "; set development.allow_loopback_backends: true for local testing"
      : cls === "metadata"
      ? ""
      : "; to trust it, add its network to security.allowed_backend_networks";
    const article = cls === "unspecified" ? "an" : "a";
    return `${what} ${article} ${cls} address, refused to prevent SSRF${hint}`;
  }
  return undefined;
}
