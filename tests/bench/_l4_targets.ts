/**
 * The L4 scenarios' targets — direct, Aegis's `tcp` and `udp` listeners,
 * HAProxy `mode tcp`, nginx `stream` — and which of them this machine and
 * this Aegis build can run. Unlike the HTTP targets, an Aegis build that
 * refuses its L4 configuration is no error: the L4 listeners may not have
 * landed yet, and the peers' figures are worth having without them.
 *
 * @module
 */

import type { Target } from "./_aegis.ts";
import { AEGIS_L4, aegisL4Refuses, startAegisL4 } from "./_aegis_l4.ts";
import { l4Applies, type L4Load } from "./_l4_scenarios.ts";
import { nginxStreamSupport, type Probe, startHaproxyTcp, startNginxStream } from "./_l4_peers.ts";
import { peerVersion } from "./_peers.ts";
import type { Options } from "./_scenarios.ts";

/** What an L4 scenario's targets relay to. */
export interface L4Backend {
  /** TCP, and for UDP scenarios UDP too, on 127.0.0.1. */
  readonly port: number;
  /** The process reported as `direct`'s memory. */
  readonly pid: number;
  /** When a relay in front of this backend is ready for load. */
  readonly probe: Probe;
  stop(): Promise<void>;
}

/** Starts one named target in front of an L4 scenario's backend. */
export type L4Starter = (backend: L4Backend) => Promise<Target>;

/** The L4 targets that can run, and those that cannot, with why. */
export interface L4Plan {
  readonly starters: Map<string, L4Starter>;
  readonly unavailable: Map<string, string>;
}

/** `plan`'s starters and unavailable targets that apply to `load`. */
export function forLoad(plan: L4Plan, load: L4Load): L4Plan {
  const keep = <V>(m: Map<string, V>) => new Map([...m].filter(([t]) => l4Applies(t, load)));
  return { starters: keep(plan.starters), unavailable: keep(plan.unavailable) };
}

/**
 * Finds out which of the L4 targets named in `opts` can run here and how to
 * start each; `notes` receives what each is, and what was skipped and why.
 */
export async function planL4(
  opts: Options,
  dir: string,
  fdLimit: number,
  notes: string[],
): Promise<L4Plan> {
  const starters = new Map<string, L4Starter>();
  const unavailable = new Map<string, string>();
  const want = (name: string) => opts.targets.includes(name);
  if (want("direct")) {
    starters.set(
      "direct",
      (b) => Promise.resolve({ name: "direct", port: b.port, pid: b.pid, stop: async () => {} }),
    );
  }
  if (want(AEGIS_L4)) {
    const refused = await aegisL4Refuses(dir);
    if (refused === undefined) {
      starters.set(AEGIS_L4, (b) => startAegisL4(dir, b.port, b.probe));
      notes.push(
        "aegis l4: a `tcp` and a `udp` listener on one address, each naming a one-backend " +
          "pool; loopback exempt from their rate limits.",
      );
    } else {
      unavailable.set(AEGIS_L4, refused);
      notes.push(`Aegis L4: not available: ${refused}`);
    }
  }
  const peers: string[] = [];
  if (want("haproxy")) {
    const version = await peerVersion("haproxy");
    if (version) {
      starters.set("haproxy", (b) => startHaproxyTcp(dir, b.port, fdLimit, b.probe));
      peers.push(`${version} (\`mode tcp\`, nbthread 1; TCP only: HAProxy has no UDP proxy)`);
    } else {
      unavailable.set("haproxy", "not installed (`apt-get install haproxy`)");
    }
  }
  if (want("nginx")) {
    const version = await peerVersion("nginx");
    const stream = version ? await nginxStreamSupport(dir, fdLimit) : "not installed";
    if (typeof stream !== "string") {
      starters.set("nginx", (b) => startNginxStream(dir, b.port, fdLimit, stream, b.probe));
      peers.push(
        `${version} (\`stream\` module, ${stream.build}; 1 worker; a TCP and a UDP listener ` +
          "on one port; UDP `proxy_timeout 30s`, `proxy_responses` unset)",
      );
    } else {
      unavailable.set(
        "nginx",
        version ? stream : "not installed (`apt-get install nginx libnginx-mod-stream`)",
      );
    }
  }
  if (peers.length) notes.push(`L4 peers: ${peers.join("; ")}.`);
  for (const [t, why] of unavailable) if (t !== AEGIS_L4) notes.push(`L4 ${t}: ${why}.`);
  return { starters, unavailable };
}
