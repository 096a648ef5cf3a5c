/**
 * Configuration: the schema of `aegis.yml`, loading with positioned errors,
 * and the startup SSRF check.
 *
 * @module
 */

export { type BackendConfig, type Config, configSchema, DEFAULT_METHODS } from "./fields.ts";
export {
  ConfigFileError,
  type ConfigResult,
  formatDiagnostic,
  loadConfigFile,
  parseConfig,
  type ParseOptions,
  printableConfig,
} from "./load.ts";
export { type Diagnostic, walkFields } from "./schema.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { type Resolver, systemResolver } from "./ssrf.ts";
export { parseHostPort } from "./checks.ts";
