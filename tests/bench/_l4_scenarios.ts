/**
 * The L4 scenarios of the end-to-end benchmark (8–10): load through Aegis's
 * TCP and UDP relays, against the same relays of HAProxy and nginx.
 *
 * @module
 */

/** How an L4 scenario drives its load. */
export type L4Load = "iperf3-tcp" | "wrk-close" | "iperf3-udp";

/**
 * One L4 load shape. Its targets are relays of bytes or datagrams (HAProxy
 * `mode tcp`, the nginx `stream` module, Aegis's `tcp` and `udp` listeners),
 * so it has its own table, with its own unit.
 */
export interface L4Scenario {
  readonly id: number;
  readonly title: string;
  /** Short label for the table. */
  readonly short: string;
  readonly load: L4Load;
  /** The issue's target: Aegis's rate at least `ratio` × `peer`'s. */
  readonly goal: { readonly peer: "haproxy" | "nginx"; readonly ratio: number };
}

/** The L4 scenarios, by id, after the HTTP ones. */
export const L4_SCENARIOS: readonly L4Scenario[] = [
  {
    id: 8,
    title: "TCP bulk throughput: one iperf3 stream through the TCP relay",
    short: "TCP bulk",
    load: "iperf3-tcp",
    goal: { peer: "haproxy", ratio: 0.65 },
  },
  {
    id: 9,
    title: "TCP new connections per second: wrk -c64 with Connection: close to an HTTP backend",
    short: "TCP conn/s c64",
    load: "wrk-close",
    goal: { peer: "haproxy", ratio: 0.4 },
  },
  {
    id: 10,
    title: "UDP datagrams per second at a fixed offered load: iperf3 -u through the UDP relay",
    short: "UDP",
    load: "iperf3-udp",
    goal: { peer: "nginx", ratio: 1 },
  },
];

/** The L4 targets, in run order. */
export const L4_TARGETS = ["direct", "aegis l4", "haproxy", "nginx"] as const;

/** Whether `target` can relay `load`: HAProxy has no UDP proxy. */
export function l4Applies(target: string, load: L4Load): boolean {
  return !(target === "haproxy" && load === "iperf3-udp");
}
