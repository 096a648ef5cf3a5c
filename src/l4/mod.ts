/**
 * L4 listeners: relays that move bytes between clients and one pool of
 * backends without parsing them. This branch brings the UDP NAT relay.
 *
 * @module
 */

export { startUdpRelay, type UdpRelay } from "./udp/relay.ts";
export {
  limitsOf,
  UDP_RELAY_DEFAULTS,
  type UdpRelayFilters,
  type UdpRelayOptions,
} from "./udp/options.ts";
export { MAX_UDP_PAYLOAD } from "./udp/_dgram.ts";
export { type SessionLimits } from "./udp/sessions.ts";
export {
  DROP_REASONS,
  type DropReason,
  type UdpRelaySnapshot,
  UdpRelayStats,
} from "./udp/stats.ts";
