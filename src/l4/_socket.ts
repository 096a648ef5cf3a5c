/**
 * A relayed socket that is closed exactly once whoever closes it first
 * (the relay's end, a timer, the shutdown signal), and the write loop the
 * relay uses.
 *
 * @module
 */

import { formatIp, parseIp, unmapIpv4 } from "../net/mod.ts";

/** An error as one short line for logs and outcomes. */
export function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** A connection the relay closes exactly once. */
export class RelaySocket {
  /** The connection itself, for reads and writes. */
  readonly conn: Deno.TcpConn;
  #closed = false;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** True once {@linkcode RelaySocket.close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the socket; a pending read or write on it then fails. Later calls do nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Already gone.
    }
  }

  /** Sends FIN (half-close); the peer may still send. Quiet when the peer is gone. */
  async closeWrite(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.conn.closeWrite();
    } catch {
      // The peer reset or the socket closed: the read side will say so.
    }
  }

  /** Turns Nagle's algorithm off: a relay forwards what it has at once. */
  noDelay(): void {
    try {
      this.conn.setNoDelay(true);
    } catch {
      // The peer may already be gone.
    }
  }
}

/**
 * Writes the first `n` bytes of `buf`, however many writes that takes.
 * The whole buffer goes without a view when it is full.
 */
export async function writeAll(conn: Deno.Conn, buf: Uint8Array, n: number): Promise<void> {
  let off = await conn.write(n === buf.length ? buf : buf.subarray(0, n));
  while (off < n) off += await conn.write(buf.subarray(off, n));
}

/**
 * A socket address as the relay names it: IPv4-mapped IPv6 shown as IPv4,
 * as the listener names its clients.
 */
export function addressOf(addr: Deno.NetAddr): { ip: string; port: number } {
  const ip = parseIp(addr.hostname);
  return { ip: ip ? formatIp(unmapIpv4(ip)) : addr.hostname, port: addr.port };
}
