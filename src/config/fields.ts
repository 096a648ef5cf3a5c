/**
 * The schema of `aegis.yml` as a file may write it. Two forms are valid:
 *
 * - **flat** (the seed's): `server` with its address and limits, one
 *   `backends` list, and the sections around them; it means one `http`
 *   listener and one pool, both named `default`;
 * - **expanded**: `listeners` (front doors, each with routes) and `pools`
 *   (backend groups by name), each leaving out what it inherits.
 *
 * The top-level sections are the defaults listeners and pools inherit, so
 * the two forms share them. What the code reads is the resolved form
 * (`resolved.ts`), which `expand.ts` builds from this one. Defaults follow
 * the seed system's tables; README.md documents each field (a test keeps
 * the two in step).
 *
 * @module
 */

import { intOrAuto } from "./_auto.ts";
import { checkCollectorUrl, checkHost, checkListenAddress } from "./checks.ts";
import { DAY_MS } from "./duration.ts";
import {
  adaptiveSection,
  backendNetworksField,
  frontFields,
  listenerSecurityFields,
  rateLimitSection,
} from "./fields_front.ts";
import { backendsField, poolSections } from "./fields_pool.ts";
import { fileListenersField, filePoolsField } from "./fields_topology.ts";
import { bool, duration, int, num, oneOf, str } from "./scalars.ts";
import { type Infer, optional, section } from "./schema.ts";

export { DEFAULT_METHODS } from "./fields_front.ts";

/** The most worker isolates `server.workers` may ask for. */
export const MAX_WORKERS = 256;

/** `server.shutdown_timeout`: process-wide, in both forms. */
const shutdownTimeout = duration({
  doc: "Grace period for in-flight requests on shutdown",
  default: 30_000,
  max: DAY_MS,
});

/** The sections every configuration has, whatever its form: they are the process's. */
export const processSections = {
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
    metrics_address: str({
      doc:
        "host:port of a listener serving only GET /metrics, for scrapers; empty (the default) for none",
      default: "",
      check: (a) => a === "" ? undefined : checkListenAddress(a),
    }),
    token: str({
      doc:
        "Bearer token required by POST /reload, POST /drain and GET /stream (the web dashboard); required when address is not loopback",
      default: "",
      secret: true,
      check: (t) =>
        t === "" || /^[\x21-\x7e]{16,}$/.test(t)
          ? undefined
          : "must be at least 16 printable characters without spaces",
    }),
  }),
  tracing: section("Distributed tracing: spans exported over OTLP/HTTP", {
    enabled: bool({ doc: "Create a span per request and export it", default: false }),
    endpoint: str({
      doc: "OTLP/HTTP traces URL of the collector (OTLP/JSON is posted to it)",
      default: "http://127.0.0.1:4318/v1/traces",
      check: checkCollectorUrl,
    }),
    sampling_ratio: num({
      doc: "Share of new traces sampled; a caller's sampled flag decides for its own",
      default: 1,
      min: 0,
      max: 1,
    }),
    service_name: str({
      doc: "`service.name` of the spans",
      default: "aegis",
      check: (s) => s.trim() === "" ? "must not be empty" : undefined,
    }),
  }),
};

/**
 * `server.workers`: process-wide, in both forms. The cap keeps a typo
 * (`2000`) from starting thousands of isolates; no machine Aegis runs on
 * has more cores than that.
 */
const workers = intOrAuto({
  doc:
    "Worker isolates serving the listeners, each accepting on its own SO_REUSEPORT socket; auto: one per core. 1 serves everything on one thread, as before",
  default: 1,
  min: 1,
  max: MAX_WORKERS,
});

/** `server.shutdown_timeout` and `server.workers`, for the resolved schema. */
export const serverProcessSection = section("Process-wide server settings", {
  shutdown_timeout: shutdownTimeout,
  workers,
});

/** The schema of the configuration file, both forms. */
export const configSchema = section("Aegis configuration", {
  server: section("The public listener of the flat form, and every listener's defaults", {
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
    read_timeout: frontFields.read_timeout,
    write_timeout: frontFields.write_timeout,
    idle_timeout: frontFields.idle_timeout,
    max_header_bytes: frontFields.max_header_bytes,
    max_body_bytes: frontFields.max_body_bytes,
    shutdown_timeout: shutdownTimeout,
    workers,
    max_connections: frontFields.max_connections,
    max_connections_per_client: frontFields.max_connections_per_client,
  }),
  backends: optional(backendsField),
  listeners: fileListenersField,
  pools: filePoolsField,
  load_balancing: poolSections.load_balancing,
  retries: poolSections.retries,
  health_check: poolSections.health_check,
  rate_limit: rateLimitSection,
  adaptive: adaptiveSection,
  circuit_breaker: poolSections.circuit_breaker,
  ...processSections,
  security: section("Request filtering, the HSTS policy and the SSRF policy", {
    ...listenerSecurityFields,
    allowed_backend_networks: backendNetworksField,
  }),
  upstream: poolSections.upstream,
});

/** The configuration file as decoded, before it is expanded. */
export type FileConfig = Infer<typeof configSchema>;
