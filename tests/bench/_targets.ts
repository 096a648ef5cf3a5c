/**
 * The benchmark's targets — direct, the runtime's floor, Aegis per upstream
 * transport, HAProxy, nginx — and which of them this machine and this Aegis build can run.
 *
 * @module
 */

import { aegisRefuses, startAegis, type Target } from "./_aegis.ts";
import { startFloor } from "./_backends.ts";
import type { Backends } from "./_backends.ts";
import { type PeerName, peerVersion, startPeer } from "./_peers.ts";
import type { Options } from "./_scenarios.ts";

/** Starts one named target in front of a scenario's backends. */
export type Starter = (backends: Backends) => Promise<Target>;

/**
 * Finds out which of the targets named in `opts` can run here and how to
 * start each; `notes` receives what each is, and what was skipped and why.
 * Throws when the Aegis build refuses the benchmark's configuration.
 */
export async function plan(
  opts: Options,
  dir: string,
  fdLimit: number,
  notes: string[],
): Promise<Map<string, Starter>> {
  const starters = new Map<string, Starter>();
  const want = (name: string) => opts.targets.includes(name);
  if (want("direct")) {
    starters.set("direct", (b) => {
      const port = b.ports[0]!;
      return Promise.resolve({ name: "direct", port, pid: b.pidOf(port), stop: async () => {} });
    });
  }
  if (want("deno floor")) {
    starters.set("deno floor", startFloor);
    notes.push(
      "deno floor: the thinnest proxy this runtime can run (`tests/bench/_floor_server.ts`: " +
        "`Deno.serve` + a bare keep-alive HTTP/1.1 client, no features, no timeouts): the " +
        "runtime's own share of the cost.",
    );
  }
  let hasKey = false;
  let hasH1 = false;
  if (want("aegis fetch") || want("aegis h1") || want("aegis h1-w2")) {
    const broken = await aegisRefuses(dir);
    if (broken) throw new Error(`aegis check refuses the benchmark's configuration:\n${broken}`);
    hasKey = await aegisRefuses(dir, "fetch") === undefined;
    hasH1 = hasKey && await aegisRefuses(dir, "h1") === undefined;
  }
  if (want("aegis fetch")) {
    starters.set(
      "aegis fetch",
      (b) => startAegis(dir, "aegis fetch", b.ports, hasKey ? "fetch" : undefined),
    );
    notes.push(
      hasKey
        ? "aegis fetch: `upstream.transport: fetch`."
        : "aegis fetch: the default transport (this build does not accept `upstream.transport`).",
    );
  }
  if (want("aegis h1")) {
    if (hasH1) starters.set("aegis h1", (b) => startAegis(dir, "aegis h1", b.ports, "h1"));
    notes.push(
      hasH1
        ? "aegis h1: `upstream.transport: h1`."
        : "aegis h1: not run — `aegis check` refuses `upstream.transport: h1` in this build.",
    );
  }
  if (want("aegis h1-w2")) {
    if (hasH1) {
      starters.set("aegis h1-w2", (b) => startAegis(dir, "aegis h1-w2", b.ports, "h1", 2));
    }
    notes.push(
      hasH1
        ? "aegis h1-w2: `upstream.transport: h1`, `server.workers: 2` (two worker isolates on SO_REUSEPORT sockets, on the same 2 cores as the load generator and backends)."
        : "aegis h1-w2: not run — `aegis check` refuses `upstream.transport: h1` in this build.",
    );
  }
  const peers: string[] = [];
  for (
    const [peer, shape] of [
      ["haproxy", "nbthread 1, roundrobin, http-reuse always, httpchk /health"],
      ["nginx", "1 worker, round-robin, upstream keepalive 64, proxy_http_version 1.1"],
    ] as const
  ) {
    if (!want(peer)) continue;
    const version = await peerVersion(peer);
    if (version) {
      starters.set(peer, (b) => startPeer(peer as PeerName, dir, b.ports, fdLimit));
      peers.push(`${version} (${shape})`);
    } else {
      peers.push(`${peer} not installed, skipped (\`apt-get install ${peer}\`)`);
    }
  }
  if (peers.length) notes.push(`Peers: ${peers.join("; ")}.`);
  return starters;
}
