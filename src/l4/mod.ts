/**
 * L4 listeners: relays that move bytes between clients and one pool of
 * backends without parsing them. The TCP relay pipes each client
 * connection to a backend, with the PROXY protocol it reads from trusted
 * proxies and writes to backends; the UDP NAT relay gives each client its
 * own socket to its backend.
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
export { MAX_UDP_PAYLOAD } from "./udp/_address.ts";
export { type SessionLimits } from "./udp/sessions.ts";
export {
  DROP_REASONS,
  type DropReason,
  type UdpRelaySnapshot,
  UdpRelayStats,
} from "./udp/stats.ts";
export {
  PROXY_HEADER_MAX_BYTES,
  PROXY_SNIFF_BYTES,
  PROXY_V1_MAX_BYTES,
  PROXY_V1_PREFIX,
  PROXY_V2_FIXED_BYTES,
  PROXY_V2_MAX_PAYLOAD,
  PROXY_V2_SIGNATURE,
  type ProxyAddress,
  type ProxyEndpoints,
  type ProxyHeader,
  type ProxySniff,
  sniffProxyHeader,
} from "./proxy_protocol.ts";
export {
  encodeProxyHeader,
  encodeProxyV1,
  encodeProxyV2,
  type ProxyVersion,
} from "./proxy_encode.ts";
export { parseProxyHeader, type ProxyParse } from "./proxy_parse.ts";
export {
  NO_RELAY_STATS,
  RELAY_BUFFER_BYTES,
  type RelayEnd,
  type RelayOutcome,
  type RelayStats,
  type TcpRelay,
  tcpRelay,
  type TcpRelayOptions,
} from "./tcp_relay.ts";
export { type BackendConnect, type ConnectTarget, denoConnect } from "./connect_backend.ts";
export { type PipeEnd } from "./pipe.ts";
export { DEFAULT_PROXY_HEADER_TIMEOUT_MS, type HeaderFailure } from "./read_proxy_header.ts";
