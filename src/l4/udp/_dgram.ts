/**
 * The few `node:dgram` calls the relay makes, as promises, and the address
 * rules they need. `node:dgram` is stable in Deno 2 (no `--unstable-net`)
 * and needs `--allow-net` only; see `relay.ts` for why it was chosen over
 * `Deno.listenDatagram` and what its Deno implementation does not do.
 *
 * @module
 */

import { createSocket, type Socket, type SocketType } from "node:dgram";

/**
 * The largest UDP payload over IPv4: 65,535 − 8 (UDP header) − 20 (IPv4
 * header), RFC 768 and RFC 791. IPv6 could carry 20 bytes more, but a
 * datagram the relay accepts must fit whichever family the other side uses.
 */
export const MAX_UDP_PAYLOAD = 65_507;

/** A host and port, the host without IPv6 brackets. */
export interface HostPort {
  /** Host name or address, `::1` rather than `[::1]`. */
  readonly hostname: string;
  /** Port number. */
  readonly port: number;
}

/**
 * Splits `host:port` (`[v6]:port` for IPv6) the way backend addresses are read.
 *
 * @throws {TypeError} when there is no port, or the text is no address
 */
export function splitHostPort(address: string): HostPort {
  const url = new URL(`udp://${address}`);
  if (url.port === "") throw new TypeError(`"${address}" has no port: write host:port`);
  return { hostname: unbracket(url.hostname), port: Number(url.port) };
}

/** Where an L4 backend is, from its `tcp://host:port` URL (the pool's; the scheme means nothing here). */
export function backendAt(url: URL): HostPort {
  return { hostname: unbracket(url.hostname), port: Number(url.port) };
}

/** An IPv6 literal as sockets take it: `[::1]` → `::1`. */
export function unbracket(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, "$1");
}

/**
 * The socket family for a host: IPv6 for an IPv6 literal, else IPv4 (a
 * host name is resolved to an IPv4 address).
 */
export function socketTypeFor(hostname: string): SocketType {
  return hostname.includes(":") ? "udp6" : "udp4";
}

/**
 * A socket bound to `hostname:port`, or a rejection that names the address
 * and the reason (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`).
 *
 * The socket buffer options of `createSocket` are left alone on purpose:
 * Deno's `node:dgram` does not pass them to the kernel (`SO_RCVBUF`), it
 * sizes the buffer it allocates for every received datagram with them, so
 * a 4 MiB "buffer" costs 8 MiB of allocation per datagram (throughput fell
 * about 40-fold when measured). The default (64 KiB per datagram) already
 * holds the largest datagram.
 */
export function bindSocket(hostname: string, port: number): Promise<Socket> {
  const socket = createSocket(socketTypeFor(hostname));
  return new Promise((resolve, reject) => {
    const failed = (e: Error) => {
      socket.off("listening", bound);
      const code = (e as { code?: string }).code ?? "error";
      reject(
        new Error(`cannot bind udp ${formatHostPort({ hostname, port })}: ${code}`, { cause: e }),
      );
    };
    const bound = () => {
      socket.off("error", failed);
      resolve(socket);
    };
    socket.once("error", failed);
    socket.once("listening", bound);
    socket.bind(port, hostname);
  });
}

/**
 * Throws unless `--allow-net` covers `host:port`. `node:dgram` checks the
 * permission in a callback of its own and throws `NotCapable` from there,
 * where no caller can catch it and the process dies, so the relay asks
 * first: at start for the listener, each backend and the wildcard address
 * a session's socket binds to (`0.0.0.0:0`, `[::]:0` for IPv6 backends).
 *
 * @throws {Deno.errors.NotCapable} naming the address and the flag
 */
export function requireNet(at: HostPort, why: string): void {
  const host = formatHostPort(at);
  if (Deno.permissions.querySync({ name: "net", host }).state === "granted") return;
  throw new Deno.errors.NotCapable(`udp ${why} needs net access to ${host}: run with --allow-net`);
}

/** Where a session's socket for a backend at `hostname` is bound: any address, an ephemeral port. */
export function wildcardFor(hostname: string): HostPort {
  return { hostname: socketTypeFor(hostname) === "udp6" ? "::" : "0.0.0.0", port: 0 };
}

/** Closes a socket; resolves once it is closed (at once if it was already). */
export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      // ERR_SOCKET_DGRAM_NOT_RUNNING: closed before, nothing left to wait for.
      resolve();
    }
  });
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatHostPort(at: HostPort): string {
  return at.hostname.includes(":") ? `[${at.hostname}]:${at.port}` : `${at.hostname}:${at.port}`;
}
