/**
 * What each front door (listener) carries: its connection timeouts and size
 * limits (written flat on a listener, under `server` in the flat form), the
 * per-client rate limit, the adaptive loop that moves it, and the request
 * filters. The top-level sections of the same names are the defaults every
 * listener inherits.
 *
 * @module
 */

import { checkCidr, checkHostPattern, checkMethod, checkOrigin } from "./checks.ts";
import { DAY_MS } from "./duration.ts";
import { redisUrlField } from "./redis_url.ts";
import { bool, duration, int, num, oneOf, str } from "./scalars.ts";
import { list, optional, section } from "./schema.ts";
import { intOrAuto } from "./_auto.ts";

/** Methods forwarded when `security.allowed_methods` is not set. */
export const DEFAULT_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** A listener's timeouts and limits: `server.*` in the flat form, flat on each listener. */
export const frontFields = {
  read_timeout: duration({
    doc:
      "Time a new connection has to deliver its first request headers, and the longest pause allowed while reading a request body",
    default: 5000,
    max: DAY_MS,
  }),
  write_timeout: duration({
    doc: "Longest time a client may leave response data unread before the response is aborted",
    default: 10_000,
    max: DAY_MS,
  }),
  idle_timeout: duration({
    doc: "Longest time a keep-alive connection may wait for its next request",
    default: 120_000,
    max: DAY_MS,
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
};

/** The names of {@linkcode frontFields}, in order. */
export const FRONT_KEYS = Object.keys(frontFields) as ReadonlyArray<keyof typeof frontFields>;

/** `rate_limit.store`: where the buckets live. */
export const rateLimitStoreSection = section(
  "Where the buckets live: in each Aegis process, or shared by every instance through Redis",
  {
    type: oneOf(["local", "redis"], {
      doc:
        "local: each Aegis process limits on its own; redis: every instance shares one limit per client and listener name through Redis (or Valkey)",
      default: "local",
    }),
    url: redisUrlField(
      "type redis: the server, redis://host:port or rediss://host:port (TLS), with user:password@ and a /database if needed; the password is never printed",
    ),
    sync_interval: duration({
      doc:
        "type redis: how often each instance reports what it admitted and reads back the fleet's count; the overshoot grows with it",
      default: 100,
      max: 10_000,
    }),
  },
);

/** `rate_limit`: per-client token buckets. */
export const rateLimitSection = section("Per-client token buckets", {
  requests_per_second: num({ doc: "Token refill rate per client IP", default: 100, above: 0 }),
  burst: int({ doc: "Max bucket capacity per client IP", default: 150, min: 1 }),
  cleanup_interval: duration({
    doc: "Frequency of stale bucket cleanup",
    default: 60_000,
    max: DAY_MS,
  }),
  max_clients: int({
    doc: "Most clients tracked at once; past it the least recently seen client's bucket is dropped",
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
  store: rateLimitStoreSection,
});

/** `adaptive`: the latency-driven control loop. */
export const adaptiveSection = section("The latency-driven control loop", {
  evaluation_interval: duration({
    doc: "How often the control loop evaluates P95",
    default: 10_000,
    max: DAY_MS,
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
});

/** The request filters of `security`: what a listener's `security` may set. */
export const requestFilterFields = {
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
};

/** One year in milliseconds: the shortest HSTS `max_age` the browsers' preload lists take. */
export const HSTS_PRELOAD_MIN_MS = 365 * DAY_MS;

/**
 * `security.hsts`: the Strict-Transport-Security policy (RFC 6797) sent on
 * responses to requests that came over TLS; absent, none is sent.
 */
export const hstsSection = section("Strict-Transport-Security on responses over TLS", {
  max_age: duration({
    doc:
      "How long browsers keep to https for this host, sent in seconds (8760h is a year); 0s tells them to forget the policy",
    max: 10 * HSTS_PRELOAD_MIN_MS,
    zero: true,
    check: (ms) => ms % 1000 === 0 ? undefined : "must be a whole number of seconds",
  }),
  include_subdomains: bool({
    doc: "The policy covers every subdomain too (includeSubDomains)",
    default: false,
  }),
  preload: bool({
    doc:
      "Ask to be in the browsers' preload lists (preload); needs include_subdomains and max_age of at least a year",
    default: false,
  }),
});

/** What a listener's `security` may set: the request filters and the HSTS policy. */
export const listenerSecurityFields = { ...requestFilterFields, hsts: optional(hstsSection) };

/** A listener's `security`: the request filters and the HSTS policy. */
export const listenerSecuritySection = section(
  "Request filtering and the HSTS policy",
  listenerSecurityFields,
);

/** `security.allowed_backend_networks`: the SSRF policy is the process's, not a listener's. */
export const backendNetworksField = list(str({ doc: "A network", check: checkCidr }), {
  doc: "Networks (CIDR) backends may resolve into despite the SSRF check, e.g. 10.0.0.0/8",
  default: [],
});

/** `websocket`: relaying WebSocket upgrades on an http listener. */
export const websocketSection = section("WebSocket relaying on an http listener", {
  enabled: bool({
    doc:
      "Relay Upgrade: websocket requests to the backends; when off they are served as plain requests, the upgrade stripped",
    default: false,
  }),
  idle_timeout: duration({
    doc:
      "A session with no message either way for this long is closed on both sides (1001); 0 for none",
    default: 300_000,
    max: DAY_MS,
  }),
  allowed_origins: list(str({ doc: "An origin", check: checkOrigin }), {
    doc:
      "Origins (scheme://host[:port]) whose pages may open sessions; others get 403; empty allows any",
    default: [],
  }),
  max_connections: int({
    doc: "Most sessions open at once on the listener; past it upgrades get 503",
    default: 10_000,
    min: 1,
    max: 10_000_000,
  }),
  max_connections_per_client: int({
    doc:
      "Most sessions open at once from one client address (IPv6: one rate_limit.ipv6_prefix network); past it upgrades get 503",
    default: 64,
    min: 1,
    max: 10_000_000,
  }),
});
