/**
 * The configuration table of `aegis.yml`: every field, its type, default and
 * meaning. Defaults follow the seed system's tables; README.md documents each
 * field (a test keeps the two in step).
 *
 * @module
 */

import {
  checkBackendUrl,
  checkCidr,
  checkHashKey,
  checkHost,
  checkHostPattern,
  checkListenAddress,
  checkMethod,
} from "./checks.ts";
import { bool, duration, int, num, oneOf, str } from "./scalars.ts";
import { type Infer, list, section } from "./schema.ts";
import { intOrAuto } from "./_auto.ts";
import { ALGORITHMS } from "./algorithms.ts";

/** Methods forwarded when `security.allowed_methods` is not set. */
export const DEFAULT_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

const DAY = 86_400_000;

/** The schema of the whole configuration file. */
export const configSchema = section("Aegis configuration", {
  server: section("The public listener", {
    host: str({
      doc:
        "Address the public listener binds to (`0.0.0.0` for every IPv4 interface, `::` for every interface)",
      default: "0.0.0.0",
      check: checkHost,
    }),
    port: int({
      doc: "TCP port of the public listener; 0 picks a free port and logs it",
      default: 8080,
      min: 0,
      max: 65535,
    }),
    read_timeout: duration({
      doc:
        "Time a new connection has to deliver its first request headers, and the longest pause allowed while reading a request body",
      default: 5000,
      max: DAY,
    }),
    write_timeout: duration({
      doc: "Longest time a client may leave response data unread before the response is aborted",
      default: 10_000,
      max: DAY,
    }),
    idle_timeout: duration({
      doc: "Longest time a keep-alive connection may wait for its next request",
      default: 120_000,
      max: DAY,
    }),
    max_header_bytes: int({
      doc: "Largest accepted request line plus headers, in bytes; larger requests get 431",
      default: 8192,
      min: 1024,
      max: 262_144,
    }),
    max_body_bytes: int({
      doc: "Largest accepted request body, in bytes, declared or streamed; larger requests get 413",
      default: 10_485_760,
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
    }),
    shutdown_timeout: duration({
      doc: "Grace period for in-flight requests on shutdown",
      default: 30_000,
      max: DAY,
    }),
    max_connections: intOrAuto({
      doc:
        "Most client connections open at once; past it new ones are closed at once. auto: what the descriptor limit leaves after a reserve for backend connections, health checks and the admin listener",
      min: 1,
      max: 10_000_000,
    }),
    max_connections_per_client: int({
      doc:
        "Most connections open at once from one client address (IPv6: one rate_limit.ipv6_prefix network); past it new ones are closed at once",
      default: 256,
      min: 1,
      max: 10_000_000,
    }),
  }),
  backends: list(
    section("A backend", {
      url: str({
        doc: "Backend base URL: http or https, host, optional port and path prefix",
        check: checkBackendUrl,
      }),
      weight: int({
        doc: "Relative share of traffic in the weighted round-robin schedule",
        min: 1,
        max: 10_000,
      }),
    }),
    { doc: "The upstream servers requests are spread across (at least one)", min: 1 },
  ),
  load_balancing: section("How a backend is chosen", {
    algorithm: oneOf(ALGORITHMS, {
      doc: "Selection algorithm",
      default: "weighted_round_robin",
    }),
    hash_key: str({
      doc: "What consistent_hash keys on: client_ip, header:NAME or cookie:NAME",
      default: "client_ip",
      check: checkHashKey,
    }),
  }),
  retries: section("Retrying requests a backend never got", {
    attempts: int({
      doc:
        "Further backends tried when one cannot be reached (idempotent, replayable requests only); 0 disables",
      default: 1,
      min: 0,
      max: 5,
    }),
  }),
  health_check: section("Active health checks", {
    interval: duration({ doc: "Delay between active health probes", default: 10_000, max: DAY }),
    timeout: duration({ doc: "Timeout per health probe", default: 3000, max: DAY }),
    path: str({
      doc: "Path used for active checks",
      default: "/health",
      check: (p) => (p.startsWith("/") ? undefined : "must start with /"),
    }),
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
  }),
  rate_limit: section("Per-client token buckets", {
    requests_per_second: num({ doc: "Token refill rate per client IP", default: 100, above: 0 }),
    burst: int({ doc: "Max bucket capacity per client IP", default: 150, min: 1 }),
    cleanup_interval: duration({
      doc: "Frequency of stale bucket cleanup",
      default: 60_000,
      max: DAY,
    }),
    max_clients: int({
      doc:
        "Most clients tracked at once; past it the least recently seen client's bucket is dropped",
      default: 100_000,
      min: 1,
      max: 10_000_000,
    }),
    ipv6_prefix: int({
      doc:
        "IPv6 clients are limited per network of this prefix length (one party usually owns a whole /64)",
      default: 64,
      min: 1,
      max: 128,
    }),
    exempt: list(str({ doc: "A network", check: checkCidr }), {
      doc: "Networks (CIDR) never rate limited, e.g. health checkers and internal callers",
      default: [],
    }),
  }),
  adaptive: section("The latency-driven control loop", {
    evaluation_interval: duration({
      doc: "How often the control loop evaluates P95",
      default: 10_000,
      max: DAY,
    }),
    latency_threshold_ms: num({
      doc: "P95 threshold, in milliseconds, that triggers a rate reduction",
      default: 500,
      above: 0,
    }),
    reduction_factor: num({
      doc: "Multiplier applied when P95 is too high",
      default: 0.8,
      above: 0,
      below: 1,
    }),
    recovery_factor: num({
      doc: "Multiplier applied when P95 normalizes",
      default: 1.1,
      above: 1,
    }),
    min_rate: num({ doc: "Lower bound for the adaptive rate", default: 10, above: 0 }),
    max_rate: num({ doc: "Upper bound for the adaptive rate", default: 500, above: 0 }),
  }),
  circuit_breaker: section("Per-backend circuit breakers", {
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
      max: DAY,
    }),
    half_open_max_requests: int({
      doc: "Max concurrent probe requests in half-open",
      default: 3,
      min: 1,
      max: 1000,
    }),
  }),
  logging: section("Logs", {
    level: oneOf(["debug", "info", "warn", "error"], { doc: "Log level", default: "info" }),
    format: oneOf(["json", "text"], { doc: "Output format", default: "json" }),
  }),
  tui: section("The terminal dashboard", {
    refresh_interval: duration({ doc: "Dashboard refresh cadence", default: 1000, max: 60_000 }),
    enabled: bool({ doc: "Enable the dashboard", default: true }),
  }),
  development: section("Local development switches", {
    allow_loopback_backends: bool({
      doc: "Bypass the SSRF check for loopback backends (local testing only)",
      default: false,
    }),
  }),
  admin: section("The admin server", {
    address: str({
      doc: "host:port of the admin server",
      default: "127.0.0.1:9090",
      check: checkListenAddress,
    }),
    token: str({
      doc:
        "Bearer token required by POST /reload and POST /drain; required when address is not loopback",
      default: "",
      secret: true,
      check: (t) =>
        t === "" || /^[\x21-\x7e]{16,}$/.test(t)
          ? undefined
          : "must be at least 16 printable characters without spaces",
    }),
  }),
  security: section("Request filtering", {
    allowed_methods: list(str({ doc: "An HTTP method", check: checkMethod }), {
      doc: "Methods forwarded to backends; others get 405",
      default: DEFAULT_METHODS,
      min: 1,
    }),
    allowed_hosts: list(str({ doc: "A host pattern", check: checkHostPattern }), {
      doc:
        "Host header values accepted (`example.com`, `example.com:8080`, `*.example.com`); empty accepts any",
      default: [],
    }),
    allowed_backend_networks: list(str({ doc: "A network", check: checkCidr }), {
      doc: "Networks (CIDR) backends may resolve into despite the SSRF check, e.g. 10.0.0.0/8",
      default: [],
    }),
  }),
  upstream: section("How Aegis talks to backends", {
    transport: oneOf(["auto", "fetch", "h1"], {
      doc:
        "Client for backends: h1 (pooled HTTP/1.1, plain http only), fetch (the runtime's, also https), auto (h1 for http, fetch for https)",
      default: "auto",
    }),
    connect_timeout: duration({
      doc:
        "Longest wait for a TCP connection to a backend (h1); a backend that cannot be reached is retried elsewhere",
      default: 5000,
      max: DAY,
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
      max: DAY,
    }),
    response_header_timeout: duration({
      doc: "Longest wait for a backend's response headers; then 504",
      default: 30_000,
      max: DAY,
    }),
    read_timeout: duration({
      doc:
        "Longest pause between two reads of a backend's response body; then the response is aborted",
      default: 60_000,
      max: DAY,
    }),
    preserve_host: bool({
      doc: "Forward the client's Host header (true) or the backend's host (false)",
      default: true,
    }),
  }),
});

/** The resolved configuration: every field present, durations in milliseconds. */
export type Config = Infer<typeof configSchema>;

/** One backend entry of the configuration. */
export type BackendConfig = Config["backends"][number];
