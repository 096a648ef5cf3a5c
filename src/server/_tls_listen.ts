/**
 * Binding a TLS socket that serves several certificates by SNI.
 *
 * `Deno.listenTls` takes one certificate. Choosing one per handshake from
 * the client's server name needs a certificate resolver, which the runtime
 * has (rustls calls it with the SNI; `node:tls`'s `SNICallback` is not an
 * option, its sockets are not `Deno.Conn`s the per-connection HTTP server
 * can take) but exposes only under an internal symbol
 * (`Deno[Deno.internal].resolverSymbol`): this module is the one place
 * that reaches for it, as `_serve_connection.ts` does for the HTTP engine,
 * and `tests/server/tls_listen_test.ts` fails loudly if a runtime upgrade
 * removes it. Without it, the first certificate is served to everyone and
 * Aegis says so. A listener with one certificate uses the public API only.
 *
 * The runtime caches the resolver's answer per server name for the
 * socket's life, with no bound and no way to clear it. Two consequences,
 * both handled by the server binding a fresh socket (on the same port,
 * `reusePort`) and closing the old one: new certificates (a reload) need a
 * new socket, and a client sending endless distinct names would grow the
 * cache without end, so after {@linkcode MAX_SNI_NAMES} names the socket
 * is renewed ({@linkcode TlsListenOptions.onCacheFull}).
 *
 * ALPN offers `h2` then `http/1.1`: the runtime's HTTP engine serves HTTP/2
 * or HTTP/1.1 on the connection by what the handshake settled.
 *
 * @module
 */

import { type LoadedCertificate, selectCertificate } from "../tls/mod.ts";

/** The protocols offered in the handshake, most preferred first (RFC 7301). */
export const ALPN_PROTOCOLS = ["h2", "http/1.1"];

/**
 * Distinct server names one socket resolves before it is renewed: far more
 * than the certificates' names, far fewer than would weigh on memory.
 */
export const MAX_SNI_NAMES = 1000;

/** Options for {@linkcode listenTls}. */
export interface TlsListenOptions {
  readonly hostname: string;
  readonly port: number;
  /** At least one; the first is served when no name matches. */
  readonly certificates: readonly LoadedCertificate[];
  /** Called once when the socket has resolved {@linkcode MAX_SNI_NAMES} names. */
  readonly onCacheFull: () => void;
}

/** A bound TLS socket, and whether it can choose a certificate by SNI. */
export interface TlsSocket {
  readonly listener: Deno.TlsListener;
  /** False when several certificates were given but this runtime lacks the resolver. */
  readonly sni: boolean;
}

/**
 * Binds a TLS socket with `reusePort`, so that a renewed one can bind the
 * same port before this one closes.
 *
 * @throws the bind error, before anything is served
 */
export function listenTls(options: TlsListenOptions): TlsSocket {
  const { certificates } = options;
  const base = {
    hostname: options.hostname,
    port: options.port,
    alpnProtocols: ALPN_PROTOCOLS,
    reusePort: true,
    transport: "tcp" as const,
  };
  const resolverKey = certificates.length > 1 ? sniResolverKey() : undefined;
  if (resolverKey === undefined) {
    const { cert, key } = certificates[0]!;
    return { listener: Deno.listenTls({ ...base, cert, key }), sni: certificates.length === 1 };
  }
  let names = 0;
  const resolve = (serverName: string) => {
    if (++names === MAX_SNI_NAMES) options.onCacheFull();
    const { cert, key } = selectCertificate(certificates, serverName);
    return { cert, key };
  };
  // The runtime takes the resolver in place of `cert` and `key`.
  const listener = Deno.listenTls(
    { ...base, [resolverKey]: resolve } as unknown as
      & Deno.ListenTlsOptions
      & Deno.TlsCertifiedKeyPem,
  );
  return { listener, sni: true };
}

/** The runtime's internal key for a certificate resolver, or `undefined` when it lacks one. */
export function sniResolverKey(): symbol | undefined {
  const key = (Deno as unknown as { internal?: symbol }).internal;
  if (key === undefined) return undefined;
  const internals = (Deno as unknown as Record<symbol, Record<string, unknown> | undefined>)[key];
  const symbol = internals?.resolverSymbol;
  return typeof symbol === "symbol" ? symbol : undefined;
}
