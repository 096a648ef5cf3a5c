/**
 * The pieces of the command line that are more than wiring: how the flags
 * of `aegis proxy` become a checked configuration.
 *
 * @module
 */

export {
  proxyConfig,
  type ProxyConfigOptions,
  type ProxyConfigResult,
  type ProxyFlags,
} from "./proxy_flags.ts";
