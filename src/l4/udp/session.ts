/**
 * One client's NAT session: its entry in the table, the backend it holds
 * and the socket it reaches that backend through, and the backends that
 * failed it (skipped when it picks again).
 *
 * @module
 */

import type { Pool } from "../../pool/mod.ts";
import { BackendLease } from "./lease.ts";
import { SessionEntry } from "./sessions.ts";
import type { UpstreamSocket } from "./upstream.ts";

/** A client address:port and what it is relayed through. */
export class UdpSession extends SessionEntry {
  /** Where the client's datagrams came from: where its replies go. */
  readonly client: Deno.NetAddr;
  /** The backend held, while the session has one. */
  lease: BackendLease | undefined;
  /** The socket to that backend, while the session has one. */
  upstream: UpstreamSocket | undefined;
  /** Backends that failed this session, by id: not picked for it again. */
  excluded: Set<string> | undefined;
  /** Clock time the current backend was sent its first datagram (latency of the first reply). */
  firstSentAt = NaN;

  constructor(client: Deno.NetAddr) {
    super(client.hostname, client.port);
    this.client = client;
  }

  /** Lets go of the backend and its socket; returns the socket's close, if there was one. */
  detach(): Promise<void> | undefined {
    this.lease?.[Symbol.dispose]();
    this.lease = undefined;
    const upstream = this.upstream;
    this.upstream = undefined;
    this.firstSentAt = NaN;
    return upstream?.close();
  }
}

/**
 * Picks a backend for a client and takes a lease on it: the pool's choice
 * among the available backends, skipping those in `excluded` and any whose
 * breaker refuses (a half-open breaker whose probe slots filled since the
 * pool looked), until one takes it or none is left.
 *
 * @example
 * ```ts
 * const lease = leaseBackend(pool, "192.0.2.7", session.excluded);
 * if (!lease) return drop("no_backend");
 * ```
 */
export function leaseBackend(
  pool: Pool,
  clientIp: string,
  excluded: ReadonlySet<string> | undefined,
): BackendLease | undefined {
  let skip = excluded;
  for (;;) {
    const state = pool.pick({ clientIp }, skip);
    if (!state) return undefined;
    const lease = BackendLease.take(state);
    if (lease) return lease;
    // Rare (the breaker changed between the pool's look and ours): only now
    // is a set of our own worth allocating.
    const more = new Set(skip);
    more.add(state.id);
    skip = more;
  }
}
