/**
 * What each pool carries: its backends, how one is chosen, how they are
 * checked and protected, whether a failed request is retried, and how Aegis
 * talks to them. The top-level sections of the same names are the defaults
 * every pool inherits; the top-level `backends` list is the pool `default`
 * of the flat form.
 *
 * @module
 */

import { checkBackendAddress, checkBackendUrl, checkHashKey, checkHost } from "./checks.ts";
import { DAY_MS } from "./duration.ts";
import { bool, duration, int, oneOf, str } from "./scalars.ts";
import { list, optional, section } from "./schema.ts";
import { ALGORITHMS } from "./algorithms.ts";

/** One backend: a URL for pools http listeners route to, an address for tcp and udp listeners'. */
export const backendSection = section("A backend", {
  url: optional(str({
    doc:
      "Backend base URL: http or https, host, optional port and path prefix (backends of pools that http listeners route to)",
    check: checkBackendUrl,
  })),
  address: optional(str({
    doc: "host:port of a backend of an L4 pool (one that tcp and udp listeners forward to)",
    check: checkBackendAddress,
  })),
  weight: int({
    doc: "Relative share of traffic in the weighted round-robin schedule",
    min: 1,
    max: 10_000,
  }),
});

/** A pool's backends: at least one. */
export const backendsField = list(backendSection, {
  doc: "The upstream servers requests are spread across (at least one)",
  min: 1,
});

/** `load_balancing`. */
export const loadBalancingSection = section("How a backend is chosen", {
  algorithm: oneOf(ALGORITHMS, {
    doc: "Selection algorithm",
    default: "weighted_round_robin",
  }),
  hash_key: str({
    doc: "What consistent_hash keys on: client_ip, header:NAME or cookie:NAME",
    default: "client_ip",
    check: checkHashKey,
  }),
});

/** `retries`. */
export const retriesSection = section("Retrying requests a backend never got", {
  attempts: int({
    doc:
      "Further backends tried when one cannot be reached (idempotent, replayable requests only); 0 disables",
    default: 1,
    min: 0,
    max: 5,
  }),
});

/** `health_check`. */
export const healthCheckSection = section("Active health checks", {
  interval: duration({ doc: "Delay between active health probes", default: 10_000, max: DAY_MS }),
  timeout: duration({ doc: "Timeout per health probe", default: 3000, max: DAY_MS }),
  path: optional(str({
    doc:
      "Path of active HTTP checks (/health when not set); an L4 pool without one is checked by connecting (tcp) or not actively (udp)",
    check: (p) => (p.startsWith("/") ? undefined : "must start with /"),
  })),
  unhealthy_threshold: int({
    doc: "Consecutive failures to mark a backend unhealthy",
    default: 3,
    min: 1,
    max: 1000,
  }),
  healthy_threshold: int({
    doc: "Consecutive successes to re-enable a backend",
    default: 2,
    min: 1,
    max: 1000,
  }),
});

/** `circuit_breaker`. */
export const circuitBreakerSection = section("Per-backend circuit breakers", {
  failure_threshold: int({
    doc: "Consecutive failures to open a breaker",
    default: 5,
    min: 1,
    max: 1000,
  }),
  success_threshold: int({
    doc: "Half-open successes required to close",
    default: 3,
    min: 1,
    max: 1000,
  }),
  open_timeout: duration({
    doc: "Time in open state before half-open probing",
    default: 30_000,
    max: DAY_MS,
  }),
  half_open_max_requests: int({
    doc: "Max concurrent probe requests in half-open",
    default: 3,
    min: 1,
    max: 1000,
  }),
});

/** `upstream`. */
export const upstreamSection = section("How Aegis talks to backends", {
  transport: oneOf(["auto", "fetch", "h1"], {
    doc:
      "Client for backends: h1 (pooled HTTP/1.1, over TLS for https), fetch (the runtime's, also HTTP/2), auto (h1)",
    default: "auto",
  }),
  connect_timeout: duration({
    doc:
      "Longest wait for a TCP connection to a backend (h1); a backend that cannot be reached is retried elsewhere",
    default: 5000,
    max: DAY_MS,
  }),
  max_connections: int({
    doc: "Most connections open to one backend at once (h1); further requests wait for one",
    default: 512,
    min: 1,
    max: 100_000,
  }),
  max_idle_connections: int({
    doc: "Most idle keep-alive connections kept per backend (h1)",
    default: 128,
    min: 0,
    max: 100_000,
  }),
  idle_connection_timeout: duration({
    doc:
      "Idle keep-alive connections to a backend are closed after this (h1); keep it below the backends' own keep-alive timeout",
    default: 4000,
    max: DAY_MS,
  }),
  response_header_timeout: duration({
    doc: "Longest wait for a backend's response headers; then 504",
    default: 30_000,
    max: DAY_MS,
  }),
  read_timeout: duration({
    doc:
      "Longest pause between two reads of a backend's response body; then the response is aborted",
    default: 60_000,
    max: DAY_MS,
  }),
  proxy_protocol: oneOf(["off", "v1", "v2"], {
    doc:
      "L4 pools: send a PROXY protocol header of this version first on every backend connection, so backends see the real client",
    default: "off",
  }),
  preserve_host: bool({
    doc: "Forward the client's Host header (true) or the backend's host (false)",
    default: true,
  }),
  ca_file: optional(str({
    doc:
      "https backends: PEM file of the CA certificates (or self-signed ones) backend certificates are verified against, besides the runtime's roots; read when the pool starts",
  })),
  server_name: optional(str({
    doc:
      "https backends: the name sent by SNI and verified in their certificates (the URL's host by default); h1 transport only",
    check: checkHost,
  })),
});

/** The sections a pool carries besides its backends, by name. */
export const poolSections = {
  load_balancing: loadBalancingSection,
  health_check: healthCheckSection,
  circuit_breaker: circuitBreakerSection,
  retries: retriesSection,
  upstream: upstreamSection,
};

/** The names of {@linkcode poolSections}, in order. */
export const POOL_SECTION_KEYS = Object.keys(poolSections) as ReadonlyArray<
  keyof typeof poolSections
>;
