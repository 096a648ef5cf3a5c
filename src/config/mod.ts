/**
 * Configuration: the schema of `aegis.yml` in its two forms (flat, and
 * listeners with pools), the resolved form the code reads, loading with
 * positioned errors and warnings (off the event loop, with size and time
 * limits), and the startup SSRF check.
 *
 * @module
 */

export { configSchema, DEFAULT_METHODS, type FileConfig, MAX_WORKERS } from "./fields.ts";
export {
  type BackendConfig,
  type Config,
  type ListenerConfig,
  type PoolConfig,
  resolvedSchema,
  type RouteConfig,
  type TracingConfig,
} from "./resolved.ts";
export { DEFAULT_HEALTH_PATH, DEFAULT_NAME, isL4Pool, joinHostPort } from "./expand.ts";
export { PROTOCOLS } from "./fields_topology.ts";
export { type Algorithm, ALGORITHMS, isAlgorithm } from "./algorithms.ts";
export { type HashKeySource, parseHashKey } from "./hash_key.ts";
export {
  type ConfigResult,
  formatDiagnostic,
  formatOmitted,
  formatWarning,
  loadConfigFile,
  type LoadOptions,
  parseConfig,
  type ParseOptions,
  printableConfig,
} from "./load.ts";
export { ConfigFileError, MAX_CONFIG_BYTES } from "./read.ts";
export { DEFAULT_DECODE_TIMEOUT_MS } from "./decode_off_thread.ts";
export { type Diagnostic, MAX_DIAGNOSTICS } from "./decoder.ts";
export { walkFields } from "./schema.ts";
export { MAX_ALIAS_NODES } from "./scan.ts";
export { clip, ECHO_MAX, quote } from "./echo.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { type Resolver, systemResolver } from "./ssrf.ts";
export { parseHostPort } from "./checks.ts";
